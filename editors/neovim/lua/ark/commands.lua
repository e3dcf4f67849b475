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

-- Files a command's result names (`uri`, `path`, `uris`, ...), as file names.
local function result_files(result)
  local files = {}
  local function add(value)
    if type(value) == 'string' and value ~= '' then
      table.insert(files, value:match('^%a[%w+.-]*://') and vim.uri_to_fname(value) or value)
    end
  end
  if type(result) == 'string' then
    add(result)
  elseif type(result) == 'table' then
    for _, key in ipairs({ 'uri', 'path', 'file', 'testFile', 'test_file', 'uris', 'paths', 'files' }) do
      local value = result[key]
      if type(value) == 'table' then
        for _, item in ipairs(value) do
          add(item)
        end
      else
        add(value)
      end
    end
  end
  return files
end

local function pick(tbl, ...)
  for _, key in ipairs({ ... }) do
    if tbl[key] ~= nil and tbl[key] ~= vim.NIL then
      return tbl[key]
    end
  end
  return nil
end

-- One scratch buffer collects what sandboxed runs print.
local function show_run(result, target)
  local record = type(result) == 'table' and result or { output = result }
  local lines = { ('── %s%s'):format(target, record.backend and (' (' .. tostring(record.backend) .. ')') or '') }
  for _, key in ipairs({ 'stdout', 'stderr', 'output' }) do
    if type(record[key]) == 'string' and record[key] ~= '' then
      table.insert(lines, '[' .. key .. ']')
      vim.list_extend(lines, vim.split(record[key]:gsub('\n$', ''), '\n', true))
    end
  end
  local exit_code = pick(record, 'exit_code', 'exitCode', 'returncode')
  local duration = pick(record, 'duration', 'duration_s', 'durationSeconds')
  local ending = {}
  if exit_code ~= nil then
    table.insert(ending, 'exit ' .. tostring(exit_code))
  end
  if type(duration) == 'number' then
    table.insert(ending, ('in %.2f s'):format(duration))
  end
  local summary = #ending > 0 and table.concat(ending, ' ') or 'finished'
  table.insert(lines, summary)

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
  local failed = type(exit_code) == 'number' and exit_code ~= 0
  notify(('%s %s'):format(target, summary), failed and vim.log.levels.WARN or vim.log.levels.INFO)
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

local function open_result(what)
  return function(result)
    local files = result_files(result)
    if files[1] then
      vim.cmd('edit ' .. vim.fn.fnameescape(files[1]))
    end
    local message = type(result) == 'table' and pick(result, 'message', 'summary') or nil
    if type(message) == 'string' then
      notify(message)
    elseif files[1] == nil then
      notify(what .. ' done')
    end
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
    M.execute('ark.generateTests', { where }, open_result('tests generated'))
  end
end

function M.generate_function()
  local where = at_cursor()
  if where then
    M.execute('ark.generateFunction', { where }, open_result('function generated'))
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

function M.reindex()
  local client = current_client(0)
  if client == nil then
    return
  end
  local root = client.config.root_dir
  M.execute('ark.reindex', root and { vim.uri_from_fname(root) } or {}, function(result)
    local summary = reindex_summary(result)
    if summary then
      notify('re-indexed ' .. summary)
    else
      open_result('re-indexed')(result)
    end
  end)
end

return M
