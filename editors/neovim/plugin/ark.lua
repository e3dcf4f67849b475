-- User commands only; the server starts from require('ark').setup() or,
-- on Neovim 0.11+, vim.lsp.enable('ark').
if vim.g.loaded_ark == 1 then
  return
end
vim.g.loaded_ark = 1

local function command(name, run, desc)
  vim.api.nvim_create_user_command(name, function()
    require('ark.commands')[run]()
  end, { desc = desc })
end

command('ArkGenerateTest', 'generate_tests', 'ARK: generate tests for the function at the cursor')
command('ArkGenerateFunction', 'generate_function', 'ARK: generate the function called at the cursor')
command('ArkRunInSandbox', 'run_in_sandbox', 'ARK: run this file in the sandbox')
command('ArkRunTestsInSandbox', 'run_tests_in_sandbox', "ARK: run this file's tests in the sandbox")
command('ArkReindex', 'reindex', 'ARK: re-index the workspace')
command('ArkTrust', 'trust', "ARK: trust this workspace's privileged settings")
command('ArkGate', 'gate', "ARK: run the quality gate on the workspace's uncommitted changes")
vim.api.nvim_create_user_command('ArkRestart', function()
  require('ark').restart()
end, { desc = 'ARK: restart the language server' })
