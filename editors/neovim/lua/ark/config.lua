-- Options of the ARK plugin: defaults, validation, and the LSP client config
-- built from them. Works on Neovim 0.7 and newer.
local M = {}

-- `null` in the server's settings model; Lua tables cannot hold nil.
local NULL = vim.NIL

M.defaults = {
  -- Python that runs `python -P -m ark_lsp`. nil: `ark-lsp` if it is on PATH, else `python3`.
  python = nil,
  -- The whole server command, overriding `python`, e.g. { 'ark-lsp' }.
  cmd = nil,
  filetypes = { 'python' },
  root_markers = { 'pyproject.toml', 'setup.py', 'setup.cfg', '.ark', '.git' },
  on_attach = nil,
  capabilities = nil,
  -- The server's settings (the `ark` section), camelCase as in `[tool.ark]`.
  -- These are the server's own defaults. Only the keys you pass are sent, so
  -- a project's `[tool.ark]` in pyproject.toml decides the ones you leave out.
  settings = {
    exclude = {},
    respectGitignore = true,
    tiers = {},
    database = NULL,
    jobs = NULL,
    maxFileSize = 10000000,
    busyTimeout = 5.0,
    select = {},
    ignore = {},
    perFileIgnores = {},
    forbiddenImports = {},
    rules = {},
    severities = {},
    codeLensThreshold = 10,
    workspaceDiagnostics = false,
    typesAndLintOnSave = true,
    sandbox = {
      backend = 'auto',
      image = NULL,
      timeout = 10.0,
      suiteTimeout = 600.0,
      memory = 268435456,
      suiteMemory = 1073741824,
      cpus = 1.0,
      pids = 64,
      network = false,
      poolSize = 2,
      mountWorkspace = false,
      python = NULL,
      weakIsolation = false,
    },
    gate = {
      checks = { 'findings', 'types', 'lint', 'coverage', 'mutation', 'complexity', 'tests' },
      coverage = 0.8,
      mutationScore = 0.6,
      complexitySlack = 0,
      lintSeverity = 'warning',
      mutantTimeout = 30.0,
      maxMutants = 60,
      testSelection = 'affected',
    },
  },
}

-- Types a setting accepts where its default does not say: nullable ones,
-- and the memory limits, which also take "256m"-style strings.
local ACCEPTS = {
  database = { 'string', 'nil' },
  jobs = { 'number', 'nil' },
  ['sandbox.image'] = { 'string', 'nil' },
  ['sandbox.python'] = { 'string', 'nil' },
  ['sandbox.memory'] = { 'number', 'string' },
  ['sandbox.suiteMemory'] = { 'number', 'string' },
}

local OPTION_TYPES = {
  python = { 'string', 'nil' },
  cmd = { 'table', 'nil' },
  filetypes = { 'table' },
  root_markers = { 'table' },
  on_attach = { 'function', 'nil' },
  capabilities = { 'table', 'nil' },
  settings = { 'table' },
}

local function type_of(value)
  if value == NULL then
    return 'nil'
  end
  return type(value)
end

local function accepts(types, value)
  return vim.tbl_contains(types, type_of(value))
end

-- Keeps the settings whose names and types are known; returns them and the problems.
local function validate_settings(settings, defaults, prefix, problems)
  local valid = {}
  for key, value in pairs(settings) do
    local name = prefix .. key
    local default = defaults[key]
    if default == nil then
      table.insert(problems, ('settings.%s: unknown setting, ignored'):format(name))
    elseif key == 'sandbox' and prefix == '' then
      if type(value) == 'table' then
        local nested = validate_settings(value, default, 'sandbox.', problems)
        if next(nested) ~= nil then
          valid[key] = nested
        end
      else
        table.insert(problems, 'settings.sandbox: expected a table, ignored')
      end
    else
      local types = ACCEPTS[name] or { type_of(default) }
      if accepts(types, value) then
        valid[key] = value
      else
        table.insert(
          problems,
          ('settings.%s: expected %s, got %s; the server default applies'):format(
            name,
            table.concat(types, ' or '),
            type_of(value)
          )
        )
      end
    end
  end
  return valid
end

--- Merge user options over the defaults and check them.
--- Bad options are reported and dropped, so the plugin keeps working.
---@return table options, string[] problems
function M.resolve(opts)
  local problems = {}
  opts = opts or {}
  local resolved = {}
  for key, value in pairs(M.defaults) do
    if key ~= 'settings' then
      resolved[key] = value
    end
  end
  for key, value in pairs(opts) do
    local types = OPTION_TYPES[key]
    if types == nil then
      table.insert(problems, ('%s: unknown option, ignored'):format(key))
    elseif not accepts(types, value) then
      table.insert(
        problems,
        ('%s: expected %s, got %s; using the default'):format(key, table.concat(types, ' or '), type_of(value))
      )
    elseif key ~= 'settings' then
      resolved[key] = value
    end
  end
  local user_settings = type(opts.settings) == 'table' and opts.settings or {}
  resolved.settings = validate_settings(user_settings, M.defaults.settings, '', problems)
  table.sort(problems)
  return resolved, problems
end

--- The command that starts the server.
function M.server_cmd(options)
  if options.cmd then
    return options.cmd
  end
  -- -P: the workspace is the current folder, and a folder of its named ark_lsp
  -- must not stand in for ARK (sys.path would start with it).
  if options.python then
    return { options.python, '-P', '-m', 'ark_lsp' }
  end
  if vim.fn.executable('ark-lsp') == 1 then
    return { 'ark-lsp' }
  end
  return { 'python3', '-P', '-m', 'ark_lsp' }
end

-- An empty Lua table encodes as a JSON array, and vim.empty_dict() does not
-- survive vim.lsp.config's merging: leave nothing out rather than send `[]`.
local function unless_empty(tbl)
  if next(tbl) == nil then
    return nil
  end
  return tbl
end

--- The client config for vim.lsp.config / vim.lsp.start / vim.lsp.start_client.
function M.client_config(options)
  local settings = vim.deepcopy(options.settings or {})
  local client = {
    name = 'ark',
    cmd = M.server_cmd(options),
    filetypes = options.filetypes,
    root_markers = options.root_markers,
    -- The same object the server reads from workspace/configuration `ark`.
    init_options = unless_empty(vim.deepcopy(settings)),
    settings = unless_empty(settings) and { ark = settings } or {},
    on_attach = options.on_attach,
    capabilities = options.capabilities,
    handlers = {
      -- The server's index state per folder and its sandbox backend.
      ['ark/status'] = function(err, result, ctx)
        return require('ark')._on_status(err, result, ctx)
      end,
      -- The server tells the user how each command ended; through vim.notify on
      -- every release (0.7 would echo it), so a notification plugin shows it too.
      ['window/showMessage'] = function(_, result)
        return require('ark')._on_message(result)
      end,
    },
  }
  local compat = require('ark.compat')
  if compat.needs_original_diagnostics then
    client.handlers['textDocument/publishDiagnostics'] = compat.publish_diagnostics
    client.on_init = compat.on_init
  end
  return client
end

M.validate_settings = function(settings)
  local problems = {}
  local valid = validate_settings(settings or {}, M.defaults.settings, '', problems)
  table.sort(problems)
  return valid, problems
end

return M
