-- ARK for Neovim: starts the ARK language server for Python buffers.
--
--   require('ark').setup({ python = '/path/to/venv/bin/python' })
--
-- Neovim 0.11+ goes through vim.lsp.config/vim.lsp.enable (and the runtime
-- file lsp/ark.lua); 0.8-0.10 through vim.lsp.start; 0.7 through
-- vim.lsp.start_client and vim.lsp.buf_attach_client.
local config = require('ark.config')

local M = {}

-- Read by :checkhealth ark.
M._state = { setup_calls = 0, options = nil, problems = {} }

local uv = vim.uv or vim.loop
local has_config_api = vim.lsp.config ~= nil and vim.lsp.enable ~= nil

local function notify(message, level)
  vim.notify('ARK: ' .. message, level or vim.log.levels.INFO)
end

--- ARK clients, attached to `bufnr` when given.
function M.clients(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local found = {}
  for _, client in ipairs(get()) do
    if client.name == 'ark' and (bufnr == nil or vim.lsp.buf_is_attached(bufnr, client.id)) then
      table.insert(found, client)
    end
  end
  return found
end

-- Options in force: those given to setup(), else the defaults.
local function options()
  return M._state.options or (config.resolve({}))
end

local function find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return uv.cwd()
  end
  local dir = vim.fn.fnamemodify(name, ':p:h')
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return vim.fn.fnamemodify(name, ':p:h')
    end
    dir = parent
  end
end

-- Clients started on 0.7, by root folder, so each project gets one.
local clients_by_root = {}

--- Start (or reuse) the ARK client for a buffer, on any supported Neovim.
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local cfg
  if has_config_api then
    cfg = vim.deepcopy(vim.lsp.config.ark)
  else
    cfg = config.client_config(options())
  end
  if not vim.tbl_contains(cfg.filetypes or { 'python' }, vim.bo[bufnr].filetype) then
    return nil
  end
  cfg.root_dir = cfg.root_dir or find_root(bufnr, cfg.root_markers or {})
  if type(cfg.root_dir) == 'function' then
    cfg.root_dir = find_root(bufnr, cfg.root_markers or {})
  end
  if vim.lsp.start then
    return vim.lsp.start(cfg, { bufnr = bufnr })
  end
  -- Neovim 0.7: no vim.lsp.start; one client per root, attached by hand.
  local id = clients_by_root[cfg.root_dir]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    cfg.workspace_folders = { { uri = vim.uri_from_fname(cfg.root_dir), name = cfg.root_dir } }
    local on_exit = cfg.on_exit
    local root = cfg.root_dir
    cfg.on_exit = function(...)
      clients_by_root[root] = nil
      if on_exit then
        on_exit(...)
      end
    end
    id = vim.lsp.start_client(cfg)
    clients_by_root[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Set up ARK. Options: see :help ark-options.
function M.setup(opts)
  M._state.setup_calls = M._state.setup_calls + 1
  local resolved, problems = config.resolve(opts)
  M._state.options = resolved
  M._state.problems = problems
  for _, problem in ipairs(problems) do
    notify(problem, vim.log.levels.WARN)
  end
  if vim.fn.executable(config.server_cmd(resolved)[1]) ~= 1 then
    notify(
      ('cannot start the server: %s is not executable (see :checkhealth ark)'):format(config.server_cmd(resolved)[1]),
      vim.log.levels.ERROR
    )
  end

  if has_config_api then
    vim.lsp.config('ark', config.client_config(resolved))
    vim.lsp.enable('ark')
    return
  end
  local group = vim.api.nvim_create_augroup('ark', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = resolved.filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
    desc = 'Start the ARK language server',
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.start(bufnr)
    end
  end
end

-- Client methods take `self` from 0.11 (client:stop()); before, they did not (client.stop()).
local colon_methods = vim.fn.has('nvim-0.11') == 1

--- Call a method of an LSP client the way this Neovim defines it.
function M.call(client, method, ...)
  if colon_methods then
    return client[method](client, ...)
  end
  return client[method](...)
end

--- Stop the ARK clients and start them again for the buffers they served.
function M.restart()
  local buffers = {}
  local old = M.clients()
  for _, client in ipairs(old) do
    for bufnr in pairs(client.attached_buffers or {}) do
      buffers[bufnr] = true
    end
    M.call(client, 'stop')
  end
  vim.wait(5000, function()
    for _, client in ipairs(old) do
      if not M.call(client, 'is_stopped') then
        return false
      end
    end
    return true
  end, 50)
  clients_by_root = {}
  if next(buffers) == nil then
    buffers[vim.api.nvim_get_current_buf()] = true
  end
  for bufnr in pairs(buffers) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      M.start(bufnr)
    end
  end
  notify('server restarted')
end

--- Change settings without a restart: the server applies
--- workspace/didChangeConfiguration at once.
function M.configure(settings)
  local valid, problems = config.validate_settings(settings)
  for _, problem in ipairs(problems) do
    notify(problem, vim.log.levels.WARN)
  end
  local current = options()
  current.settings = vim.tbl_deep_extend('force', current.settings or {}, valid)
  M._state.options = current
  if has_config_api then
    vim.lsp.config('ark', { settings = { ark = current.settings }, init_options = current.settings })
  end
  for _, client in ipairs(M.clients()) do
    client.config.settings = { ark = current.settings }
    M.call(client, 'notify', 'workspace/didChangeConfiguration', { settings = { ark = current.settings } })
  end
end

local message_levels = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
}

function M._on_message(result)
  vim.notify(result.message, message_levels[result.type] or vim.log.levels.INFO)
end

-- The last `ark/status` of each client.
local statuses = {}

function M._on_status(_, result, ctx)
  statuses[ctx.client_id] = result
end

--- What the ARK server of a buffer reports, for statuslines:
--- "ARK ready · sandbox auto", "ARK indexing", "ARK failed", or "" without a server.
function M.status(bufnr)
  local client = M.clients(bufnr or vim.api.nvim_get_current_buf())[1]
  if client == nil then
    return ''
  end
  local status = statuses[client.id]
  if type(status) ~= 'table' then
    return 'ARK'
  end
  local state = 'ready'
  for _, folder in ipairs(status.folders or {}) do
    if folder.state == 'failed' then
      state = 'failed'
    elseif folder.state ~= 'ready' and state ~= 'failed' then
      state = folder.state
    end
  end
  return ('ARK %s · sandbox %s'):format(state, status.sandboxBackend or 'auto')
end

--- The raw `ark/status` a client last sent, for :checkhealth ark.
function M._status_of(client_id)
  return statuses[client_id]
end

return M
