-- Work-arounds for older Neovim releases, applied to ARK's client only.
local M = {}

-- Before 0.10, vim.lsp.buf.code_action() rebuilds the diagnostics of its
-- context from vim.diagnostic, with byte columns instead of the client's
-- position encoding (UTF-16): on a line with non-ASCII text before the
-- problem, the range no longer matches the one the server published, and
-- the server offers no quick fix. ARK's client remembers what it published
-- and sends those diagnostics back instead.
M.needs_original_diagnostics = vim.fn.has('nvim-0.10') == 0

local published = {} -- uri -> the diagnostics ARK last published for it

local function same(a, b)
  return a.code == b.code and a.message == b.message and a.range.start.line == b.range.start.line
end

--- A publishDiagnostics handler that remembers, then does the usual.
function M.publish_diagnostics(err, result, ctx, config)
  if result and result.uri then
    published[result.uri] = result.diagnostics
  end
  return vim.lsp.handlers['textDocument/publishDiagnostics'](err, result, ctx, config)
end

local function originals(params)
  local context = params and params.context
  local known = params and params.textDocument and published[params.textDocument.uri]
  if not (context and context.diagnostics and known) then
    return params
  end
  local fixed = {}
  for _, diagnostic in ipairs(context.diagnostics) do
    local original = diagnostic
    if diagnostic.source == 'ark' then
      for _, candidate in ipairs(known) do
        if same(diagnostic, candidate) then
          original = candidate
          break
        end
      end
    end
    table.insert(fixed, original)
  end
  context.diagnostics = fixed
  return params
end

--- on_init for ARK's client: send code actions the diagnostics as published.
function M.on_init(client)
  local request = client.request
  client.request = function(method, params, ...)
    if method == 'textDocument/codeAction' then
      params = originals(params)
    end
    return request(method, params, ...)
  end
end

return M
