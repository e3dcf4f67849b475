-- A user session with the ARK plugin in headless Neovim (0.7 to 0.11), driven
-- by tests/editors/test_neovim.py. It does what a user does and writes what
-- they would see to a JSON report; the Python test asserts on the report.
--
-- Environment: ARK_PLUGIN_DIR, ARK_TEST_PYTHON (interpreter for the server),
-- ARK_TEST_FILE (Python file to open), ARK_TEST_REPORT (JSON written here),
-- ARK_TEST_MODE ('setup': require('ark').setup(); 'enable': vim.lsp.enable).
local env = vim.env
local report = { version = vim.version(), errors = {}, notifications = {} }

local function write_report()
  local file = assert(io.open(env.ARK_TEST_REPORT, 'w'))
  file:write(vim.fn.json_encode(report))
  file:close()
end

-- Record every message the plugin shows, as a user would see it.
vim.notify = function(message, level)
  table.insert(report.notifications, { message = tostring(message), level = level or vim.log.levels.INFO })
end

report.seconds = {}
local function step(name, fn)
  local started = (vim.uv or vim.loop).hrtime()
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    report.errors[name] = err
  end
  report.seconds[name] = ((vim.uv or vim.loop).hrtime() - started) / 1e9
end

local function ark_clients(bufnr)
  return require('ark').clients(bufnr)
end

local function diagnostics(bufnr)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(found, {
      code = d.code or lsp.code,
      source = d.source or lsp.source,
      lnum = d.lnum,
      col = d.col,
      severity = d.severity,
      message = d.message,
    })
  end
  return found
end

local function has_code(bufnr, code)
  for _, d in ipairs(diagnostics(bufnr)) do
    if d.code == code then
      return true
    end
  end
  return false
end

local function line_of(bufnr, needle)
  for index, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local at = line:find(needle, 1, true)
    if at then
      return index, at - 1, line
    end
  end
  return nil
end

local function hover_text(result)
  if result == nil or result.contents == nil then
    return nil
  end
  local contents = result.contents
  if type(contents) == 'string' then
    return contents
  end
  if contents.value then
    return contents.value
  end
  local parts = {}
  for _, part in ipairs(contents) do
    table.insert(parts, type(part) == 'string' and part or part.value)
  end
  return table.concat(parts, '\n')
end

local function main()
  vim.g.loaded_python3_provider = 0
  vim.opt.runtimepath:prepend(env.ARK_PLUGIN_DIR)
  vim.cmd('runtime! plugin/ark.lua')
  vim.cmd('filetype on')

  if env.ARK_TEST_MODE == 'enable' then
    -- The Neovim 0.11 way, without setup(): lsp/ark.lua plus the user's override.
    vim.lsp.config('ark', { cmd = { env.ARK_TEST_PYTHON, '-P', '-m', 'ark_lsp' } })
    vim.lsp.enable('ark')
  else
    require('ark').setup({
      python = env.ARK_TEST_PYTHON,
      settings = { codeLensThreshold = 3, sandbox = { poolSize = 0 }, noSuchSetting = 1 },
    })
  end

  vim.cmd('edit ' .. vim.fn.fnameescape(env.ARK_TEST_FILE))
  local buf = vim.api.nvim_get_current_buf()

  step('diagnostics', function()
    report.attached = vim.wait(30000, function()
      return #ark_clients(buf) > 0
    end, 50)
    vim.wait(30000, function()
      return has_code(buf, 'ARK001')
    end, 50)
    report.diagnostics = diagnostics(buf)
    local lnum, col, text = line_of(buf, 'eval(')
    report.eval_position = { lnum = lnum and lnum - 1, col = col, line = text }
    local client = ark_clients(buf)[1]
    report.offset_encoding = client and client.offset_encoding
    report.client_count = #ark_clients(buf)
    report.statusline = require('ark').status(buf)
  end)

  step('hover', function()
    local client = assert(ark_clients(buf)[1], 'no ARK client')
    local lnum, col = line_of(buf, 'def load')
    vim.api.nvim_win_set_cursor(0, { lnum, col + 4 })
    -- Neovim 0.7 waits out the whole timeout when no server offers hover.
    report.hover_provider = client.server_capabilities.hoverProvider and true or false
    if not report.hover_provider then
      return
    end
    local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
    local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000) or {}
    local response = responses[client.id] or {}
    report.hover = {
      text = hover_text(response.result),
      -- 0.11 names the error `err`, earlier releases `error`.
      error = response.err or response.error,
    }
  end)

  step('quick_fix', function()
    local lnum, col = line_of(buf, 'eval(')
    vim.api.nvim_win_set_cursor(0, { lnum, col })
    local offered = {}
    -- Answer the code action menu as a user would: pick the literal_eval fix.
    vim.ui.select = function(items, opts, on_choice)
      local chosen
      for index, item in ipairs(items) do
        local title = opts.format_item and opts.format_item(item) or tostring(item)
        table.insert(offered, title)
        if chosen == nil and title:find('literal_eval', 1, true) then
          chosen = index
        end
      end
      on_choice(chosen and items[chosen] or nil, chosen)
    end
    vim.lsp.buf.code_action()
    vim.wait(10000, function()
      return line_of(buf, 'ast.literal_eval(') ~= nil
    end, 50)
    vim.wait(10000, function()
      return not has_code(buf, 'ARK001')
    end, 50)
    report.quick_fix = {
      offered = offered,
      lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
      diagnostics = diagnostics(buf),
    }
  end)

  step('run_in_sandbox', function()
    local before = #report.notifications
    vim.cmd('ArkRunInSandbox')
    vim.wait(60000, function()
      return #report.notifications > before
    end, 50)
    report.run_in_sandbox = { notifications = vim.list_slice(report.notifications, before + 1) }
  end)

  step('reindex', function()
    local before = #report.notifications
    vim.cmd('ArkReindex')
    vim.wait(60000, function()
      return #report.notifications > before
    end, 50)
    report.reindex = { notifications = vim.list_slice(report.notifications, before + 1) }
  end)

  step('trust', function()
    local before = #report.notifications
    vim.cmd('ArkTrust')
    vim.wait(30000, function()
      return #report.notifications > before
    end, 50)
    report.trust = { notifications = vim.list_slice(report.notifications, before + 1) }
  end)

  step('gate', function()
    local before = #report.notifications
    vim.cmd('ArkGate')
    vim.wait(120000, function()
      return #report.notifications > before
    end, 50)
    report.gate = { notifications = vim.list_slice(report.notifications, before + 1) }
  end)

  step('generate_tests', function()
    local line, col = line_of(buf, 'def load')
    vim.api.nvim_win_set_cursor(0, { line, col + #'def ' })
    local before = #report.notifications
    vim.cmd('ArkGenerateTest')
    -- The server writes the tests, runs them in the sandbox, says how many pass;
    -- then the plugin opens the file.
    vim.wait(120000, function()
      return #report.notifications > before
    end, 50)
    vim.wait(10000, function()
      return vim.api.nvim_buf_get_name(0):find('test_loader.py', 1, true) ~= nil
    end, 50)
    report.generate_tests = {
      notifications = vim.list_slice(report.notifications, before + 1),
      buffer = vim.api.nvim_buf_get_name(0),
      lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
    }
  end)

  step('configure', function()
    require('ark').configure({ codeLensThreshold = 5 })
  end)

  step('restart', function()
    local old = ark_clients(buf)[1]
    vim.cmd('ArkRestart')
    vim.wait(30000, function()
      local new = ark_clients(buf)[1]
      return new ~= nil and new.id ~= old.id and new.initialized ~= false
    end, 50)
    local new = ark_clients(buf)[1]
    report.restart = { old_id = old.id, new_id = new and new.id, count = #ark_clients(buf) }
  end)

  step('checkhealth', function()
    -- The restarted server indexes the project, then says so in ark/status.
    vim.wait(30000, function()
      return require('ark').status(buf):find('ready', 1, true) ~= nil
    end, 50)
    report.statusline_ready = require('ark').status(buf)
    vim.cmd('checkhealth ark')
    report.checkhealth = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  end)

  for _, client in ipairs(ark_clients()) do
    require('ark').call(client, 'stop')
  end
  vim.wait(5000, function()
    return #ark_clients() == 0
  end, 50)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  report.fatal = err
end
local written, write_err = pcall(write_report)
if not written then
  io.stderr:write(tostring(write_err) .. '\n')
  vim.cmd('cquit 2')
end
vim.cmd(ok and 'qall!' or 'cquit 2')
