-- :checkhealth ark
local M = {}

-- vim.health.start/ok/... from 0.10; report_* in the `health` module before.
local health = vim.health or require('health')
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local info = health.info or health.report_info
local warn = health.warn or health.report_warn
local error = health.error or health.report_error

-- Run a command for at most `timeout_ms`; returns exit code (nil on time-out) and output.
local function run(cmd, timeout_ms)
  local output = {}
  local function collect(_, data)
    for _, line in ipairs(data or {}) do
      if line ~= '' then
        table.insert(output, line)
      end
    end
  end
  local ok_start, job = pcall(vim.fn.jobstart, cmd, {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = collect,
    on_stderr = collect,
  })
  if not ok_start or job <= 0 then
    return -1, { 'could not start ' .. cmd[1] }
  end
  local code = vim.fn.jobwait({ job }, timeout_ms)[1]
  if code == -1 then
    vim.fn.jobstop(job)
    return nil, output
  end
  return code, output
end

-- The clone of ARK this plugin is part of (editors/neovim of the repository), if it is.
local function clone_root()
  local source = debug.getinfo(1, 'S').source:gsub('^@', '')
  local root = vim.fn.fnamemodify(source, ':p:h:h:h:h:h')
  local ok_read, lines = pcall(vim.fn.readfile, root .. '/pyproject.toml')
  if ok_read then
    for _, line in ipairs(lines) do
      if line:match('^name%s*=%s*"ark%-lsp"') then
        return root
      end
    end
  end
  return nil
end

-- What really installs ARK, which is on no package index: the clone this plugin came
-- with (pipx gives the `ark-lsp` command that the plugin starts by default), else a clone
-- or a wheel built in one.
local function install_advice(python)
  local clone = clone_root()
  if clone then
    local quoted = vim.fn.shellescape(clone)
    return {
      ('Install ARK from the clone this plugin is in: pipx install %s, and leave `python` unset: the plugin starts the ark-lsp command pipx puts on PATH'):format(
        quoted
      ),
      ('Or into a Python 3.11+ of your own: %s -m pip install %s'):format(python or 'python3', quoted),
    }
  end
  return {
    'Install ARK from a clone of its repository: pipx install /path/to/ark, and leave `python` unset: the plugin starts the ark-lsp command pipx puts on PATH',
    'Or build a wheel there (python -m build) and install it: pipx install ./dist/ark_lsp-*.whl',
  }
end

local function check_setup(ark)
  local calls = ark._state.setup_calls
  if calls == 1 then
    ok("require('ark').setup() ran once")
  elseif calls > 1 then
    warn(
      ("require('ark').setup() ran %d times; the last options win"):format(calls),
      { 'Call setup() once, from one place in your config.' }
    )
  elseif vim.lsp.config then
    info("require('ark').setup() not called: vim.lsp.enable('ark') alone uses the defaults of lsp/ark.lua")
  else
    warn("require('ark').setup() not called: the server does not start", { "Add require('ark').setup() to your config." })
  end
  for _, problem in ipairs(ark._state.problems or {}) do
    warn('option ' .. problem)
  end
end

-- The command the server starts with: vim.lsp.config's (0.11+, which setup()
-- also writes), else the one setup() built.
local function server_cmd(ark, config)
  if vim.lsp.config and vim.lsp.config.ark then
    return vim.lsp.config.ark.cmd
  end
  return config.server_cmd(ark._state.options or (config.resolve({})))
end

local function check_server(ark, config)
  local cmd = server_cmd(ark, config)
  if type(cmd) ~= 'table' then
    info('the server command is a function; not checked')
    return
  end
  if vim.fn.executable(cmd[1]) ~= 1 then
    local advice = install_advice(nil)
    table.insert(advice, "Or set `python` in require('ark').setup() to a Python that has ARK.")
    error(('server command %s: %s is not executable'):format(table.concat(cmd, ' '), cmd[1]), advice)
    return
  end
  ok(('server command: %s (%s)'):format(table.concat(cmd, ' '), vim.fn.exepath(cmd[1])))
  if vim.fn.fnamemodify(cmd[1], ':t') == 'ark-lsp' then
    local code, output = run({ cmd[1], '--version' }, 20000)
    if code == 0 then
      ok(output[#output] or 'ark-lsp answers --version')
    else
      error(('%s --version failed: %s'):format(cmd[1], output[#output] or 'timed out'), install_advice(nil))
    end
  elseif cmd[2] == '-P' and cmd[3] == '-m' and cmd[4] == 'ark_lsp' then
    local code, output = run({
      cmd[1],
      '-P',
      '-c',
      'import sys; assert sys.version_info >= (3, 11), sys.version; import ark_lsp; print(ark_lsp.__version__)',
    }, 20000)
    if code == 0 then
      ok(('%s imports ark_lsp %s'):format(cmd[1], output[#output] or '?'))
    else
      error(('%s cannot import ark_lsp: %s'):format(cmd[1], output[#output] or 'timed out'), install_advice(cmd[1]))
    end
  end
end

local function check_clients(ark)
  local clients = ark.clients()
  if #clients == 0 then
    info('no ARK server running (open a Python file to start one)')
  end
  for _, client in ipairs(clients) do
    local server = client.server_info or {}
    ok(
      ('server %s %s running for %s (client %d, %s positions)'):format(
        server.name or 'ark',
        server.version or '',
        client.config.root_dir or '?',
        client.id,
        client.offset_encoding or '?'
      )
    )
    local status = ark._status_of(client.id)
    for _, folder in ipairs(type(status) == 'table' and status.folders or {}) do
      local report = folder.state == 'failed' and warn or info
      report(('index of %s: %s %s'):format(folder.root, folder.state, folder.detail or ''))
      if folder.trusted == false then
        warn(
          ('%s is not trusted: ARK ignores its %s'):format(
            folder.root,
            table.concat(folder.ignored or {}, ', ')
          ),
          { 'Read them in its pyproject.toml, then run :ArkTrust (or `ark trust` in a shell).' }
        )
      elseif folder.trusted then
        ok(('%s is trusted (%s)'):format(folder.root, folder.trust or ''))
      end
    end
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local attached = ark.clients(bufnr)
    if #attached > 1 then
      warn(
        ('buffer %d (%s) has %d ARK clients attached'):format(
          bufnr,
          vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':~:.'),
          #attached
        ),
        { "ARK is set up twice: use either require('ark').setup() or vim.lsp.enable('ark') / nvim-lspconfig, not both." }
      )
    end
  end
end

local function check_docker()
  if vim.fn.executable('docker') ~= 1 then
    warn('docker not found: sandboxed runs use the local backend, which isolates less', {
      'Install Docker for isolated runs, or set settings.sandbox.backend = "local" to silence this.',
    })
    return
  end
  local code, output = run({ 'docker', 'info', '--format', '{{.ServerVersion}}' }, 5000)
  if code == 0 then
    ok(('Docker %s reachable: sandboxed runs are isolated in containers'):format(output[#output] or ''))
  else
    warn(
      ('Docker not reachable (%s): sandboxed runs use the local backend, which isolates less'):format(
        code == nil and 'no answer in 5 s' or (output[#output] or 'error')
      ),
      { 'Start the Docker engine, or point DOCKER_HOST at one.' }
    )
  end
end

function M.check()
  local ark = require('ark')
  local config = require('ark.config')
  start('ARK set-up')
  check_setup(ark)
  start('ARK server')
  check_server(ark, config)
  check_clients(ark)
  start('ARK sandbox')
  check_docker()
end

return M
