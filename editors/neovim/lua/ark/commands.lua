-- The user commands behind plugin/ark.lua: each sends one of the server's
-- workspace/executeCommand commands for the current buffer and shows the answer.
local ark = require('ark')

local M = {}

local function notify(message, level)
  vim.notify('ARK: ' .. message, level or vim.log.levels.INFO)
end

local function current_client(bufnr)
  local client = ark.clients(bufnr)[1]
  if client == nil then
    notify('no ARK server is attached to this buffer (see :checkhealth ark)', vim.log.levels.ERROR)
  end
  return client
end

-- One scratch buffer collects what sandboxed runs print; the server's own
-- message says how the run ended.
local function show_run(result, target)
  if type(result) ~= 'table' then
    return
  end
  local lines = { ('── %s (%s)'):format(target, tostring(result.backend)) }
  for _, stream in ipairs({ 'stdout', 'stderr' }) do
    if type(result[stream]) == 'string' and result[stream] ~= '' then
      table.insert(lines, '[' .. stream .. ']')
      vim.list_extend(lines, vim.split(result[stream]:gsub('\n$', ''), '\n', true))
    end
  end
  local ending = { tostring(result.outcome) }
  if type(result.exit_code) == 'number' then
    table.insert(ending, 'exit ' .. result.exit_code)
  end
  if result.killed_by and result.killed_by ~= 'none' then
    table.insert(ending, 'stopped by the ' .. result.killed_by .. ' limit')
  end
  if type(result.duration_ms) == 'number' then
    table.insert(ending, ('in %.0f ms'):format(result.duration_ms))
  end
  table.insert(lines, table.concat(ending, ', '))

  local name = 'ARK Sandbox'
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
  end
  local last = vim.api.nvim_buf_line_count(bufnr)
  local empty = last == 1 and vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] == ''
  vim.api.nvim_buf_set_lines(bufnr, empty and 0 or last, -1, false, lines)
  if vim.fn.bufwinnr(bufnr) == -1 then
    vim.cmd('botright sbuffer ' .. bufnr)
    vim.cmd('wincmd p')
  end
end

--- Send `command` to the ARK server of the current buffer; `on_result` gets the answer.
function M.execute(command, arguments, on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = current_client(bufnr)
  if client == nil then
    return
  end
  local params = { command = command, arguments = arguments }
  ark.call(client, 'request', 'workspace/executeCommand', params, function(err, result)
    if err then
      notify(('%s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    on_result(result)
  end, bufnr)
end

local function at_cursor()
  local client = current_client(0)
  if client == nil then
    return nil
  end
  -- Positions in the encoding this client negotiated (utf-8 on 0.11, utf-16 before).
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  return { uri = params.textDocument.uri, position = params.position }
end

-- Open the file a generation wrote; the server's own message says what it did.
local function open_result(result)
  if type(result) == 'table' and type(result.uri) == 'string' and result.applied then
    -- :drop splits rather than abandon a buffer with unsaved changes.
    vim.cmd('drop ' .. vim.fn.fnameescape(vim.uri_to_fname(result.uri)))
  end
end

local function run(command)
  return function()
    if vim.bo.modified then
      -- Sandboxes run files as they are on disk.
      vim.cmd('write')
    end
    local target = vim.fn.expand('%:t')
    M.execute(command, { vim.uri_from_bufnr(0) }, function(result)
      show_run(result, target)
    end)
  end
end

function M.generate_tests()
  local where = at_cursor()
  if where then
    M.execute('ark.generateTests', { where }, open_result)
  end
end

function M.generate_function()
  local where = at_cursor()
  if where then
    M.execute('ark.generateFunction', { where }, open_result)
  end
end

M.run_in_sandbox = run('ark.runInSandbox')
M.run_tests_in_sandbox = run('ark.runTestsInSandbox')

-- `ark.reindex`'s answer, {folders = {root = figures}}, as one line per folder.
local function reindex_summary(result)
  if type(result) ~= 'table' or type(result.folders) ~= 'table' then
    return nil
  end
  local parts = {}
  for root, figures in pairs(result.folders) do
    local name = vim.fn.fnamemodify(root, ':t')
    if type(figures.files_scanned) == 'number' then
      table.insert(
        parts,
        ('%s: %d files scanned, %d indexed, %d unchanged in %.2f s'):format(
          name,
          figures.files_scanned,
          figures.files_indexed or 0,
          figures.files_unchanged or 0,
          (figures.duration_ms or 0) / 1000
        )
      )
    else
      table.insert(parts, ('%s: %s %s'):format(name, tostring(figures.state), tostring(figures.detail or '')))
    end
  end
  table.sort(parts)
  return table.concat(parts, '; ')
end

-- Trust the buffer's workspace as `ark trust` does, after the user has read
-- what it asks for: its privileged settings (database, sandbox, templates)
-- then apply. The server says what it granted.
function M.trust()
  local client = current_client(0)
  if client == nil then
    return
  end
  local root = client.config.root_dir
  M.execute('ark.trust', root and { vim.uri_from_fname(root) } or {}, function() end)
end

-- Judge the workspace's uncommitted changes as `ark gate` does; the server
-- shows the verdict and marks what the changes add as diagnostics.
function M.gate()
  local client = current_client(0)
  if client == nil then
    return
  end
  local root = client.config.root_dir
  M.execute('ark.gate', root and { vim.uri_from_fname(root) } or {}, function() end)
end

function M.reindex()
  local client = current_client(0)
  if client == nil then
    return
  end
  local root = client.config.root_dir
  M.execute('ark.reindex', root and { vim.uri_from_fname(root) } or {}, function(result)
    local summary = reindex_summary(result)
    notify('re-indexed ' .. (summary or vim.inspect(result)))
  end)
end

return M
