-- The ARK server for Neovim 0.11+: vim.lsp.enable('ark') starts it for Python
-- buffers with these defaults; vim.lsp.config('ark', { ... }) or
-- require('ark').setup({ ... }) changes them.
local config = require('ark.config')
return config.client_config((config.resolve({})))
