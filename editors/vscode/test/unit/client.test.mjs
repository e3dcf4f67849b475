// The built bundle (dist/extension.js) with a stand-in `vscode` module and the
// real ARK server: interpreter choice, what the server is sent (settings,
// command arguments), what the user is shown. The server runs behind
// tests/editors/lsp_tap.py, which records every message it receives.
//
// Needs: `npm run bundle`, and a Python with ARK's dependencies (ARK_TEST_PYTHON, default:
// the repository's .venv); the checkout's ark_lsp is linked in as the extension's bundle.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { createFake } = require('./fake-vscode.cjs');

const extensionRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repo = path.resolve(extensionRoot, '../..');
const bundle = path.join(extensionRoot, 'dist', 'extension.js');
const python = process.env.ARK_TEST_PYTHON || path.join(repo, '.venv', 'bin', 'python');
const tap = path.join(repo, 'tests', 'editors', 'lsp_tap.py');
const sampleText = fs.readFileSync(path.join(repo, 'tests', 'editors', 'sample', 'app', 'loader.py'), 'utf8');
const packageJson = JSON.parse(fs.readFileSync(path.join(extensionRoot, 'package.json'), 'utf8'));

let active; // the extension under test, deactivated after each test
const scratch = []; // folders setUp made, removed once their server has stopped

afterEach(async () => {
  if (active) {
    await active.deactivate();
    active = undefined;
  }
  for (const dir of scratch.splice(0)) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function load() {
  const { vscode, control } = createFake();
  const original = Module._load;
  Module._load = function (request, ...rest) {
    return request === 'vscode' ? vscode : original.call(this, request, ...rest);
  };
  try {
    delete require.cache[bundle];
    active = require(bundle);
  } finally {
    Module._load = original;
  }
  return { vscode, control, extension: active };
}

function context(extensionPath) {
  return { subscriptions: [], extension: { packageJSON: packageJson }, extensionPath };
}

/**
 * An installed extension's folder: with `bundled/libs` holding the server as `npm run
 * package` puts it there (here the checkout's ark_lsp, linked), or, with `clone`, a
 * development build inside a clone of ARK, which carries no server.
 */
function extensionFolder({ bundled = false, clone = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ark-vscode-extension-'));
  scratch.push(dir);
  const folder = clone ? path.join(dir, 'editors', 'vscode') : dir;
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'README.md'), '# ARK\n');
  if (clone) {
    fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "ark-lsp"\n');
  }
  if (bundled) {
    const libs = path.join(folder, 'bundled', 'libs');
    fs.mkdirSync(libs, { recursive: true });
    fs.symlinkSync(path.join(repo, 'ark_lsp'), path.join(libs, 'ark_lsp'));
    fs.writeFileSync(
      path.join(folder, 'bundled', 'bundle.json'),
      JSON.stringify({ ark: '0.1.0', target: 'linux-x64', re2Pythons: ['3.11', '3.12', '3.13', '3.14'] }),
    );
  }
  return { folder, root: dir };
}

/** A folder with the sample file, and a "python" that records what the server receives. */
function setUp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ark-vscode-unit-'));
  scratch.push(dir);
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(path.join(workspace, 'app'), { recursive: true });
  const file = path.join(workspace, 'app', 'loader.py');
  fs.writeFileSync(file, sampleText);
  const log = path.join(dir, 'wire.jsonl');
  const interpreter = path.join(dir, 'python');
  fs.writeFileSync(interpreter, `#!/bin/sh\nexec "${python}" "${tap}" "${log}" "${python}" "$@"\n`, { mode: 0o755 });
  return { dir, workspace, file, interpreter, wire: wire(log) };
}

function wire(log) {
  const records = () =>
    fs.existsSync(log)
      ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
      : [];
  return {
    starts: () => records().filter((r) => r.argv).map((r) => r.argv),
    pythonPaths: () => records().filter((r) => r.argv).map((r) => r.pythonpath),
    sent: (method) => records().filter((r) => r.from === 'client' && r.message.method === method).map((r) => r.message),
    answerTo: (request) =>
      records().find((r) => r.from === 'server' && r.message.id === request.id && !r.message.method)?.message,
    // Requests the server sent the editor, and the editor's answers.
    asked: (method) => records().filter((r) => r.from === 'server' && r.message.method === method).map((r) => r.message),
    answered: (request) =>
      records().find((r) => r.from === 'client' && r.message.id === request.id && !r.message.method)?.message,
  };
}

async function waitFor(what, predicate, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The user saw the server's error, or what the command produced: never silence. */
function assertAnswered(control, shownBefore, answer, title, shownOnSuccess) {
  const texts = control.recorded.messages.slice(shownBefore).map((m) => m.text);
  if (answer.error) {
    assert.ok(texts.includes(`ARK: ${title} failed: ${answer.error.message}`), `error not shown: ${JSON.stringify(texts)}`);
  } else {
    assert.ok(shownOnSuccess(texts, control.recorded.openedDocuments), `result not shown: ${JSON.stringify(texts)}`);
  }
}

test('starts the bundled server, `python -P -m ark_lsp --stdio`, from ark.interpreter and sends only what the user set', { timeout: 90_000 }, async () => {
  const { control, vscode } = load();
  const { workspace, file, interpreter, wire } = setUp();
  const extension = extensionFolder({ bundled: true });
  control.addFolder(workspace);
  control.set('ark.interpreter', interpreter);
  control.set('ark.codeLensThreshold', 3);
  control.set('ark.sandbox.poolSize', 0, 'globalValue');
  const document = control.openDocument(file, sampleText);

  await active.activate(context(extension.folder));

  // The workspace folder stays off sys.path (-P); the bundled code comes first on PYTHONPATH.
  assert.deepEqual(wire.starts(), [['-P', '-m', 'ark_lsp', '--stdio']]);
  const libs = path.join(extension.folder, 'bundled', 'libs');
  assert.equal(wire.pythonPaths()[0].split(path.delimiter)[0], libs);
  const log = control.recorded.channels.get('ARK').lines.join('\n');
  assert.ok(log.includes(`from ${path.join(libs, 'ark_lsp')} (bundled with the extension)`), log);
  const [initialize] = wire.sent('initialize');
  assert.deepEqual(initialize.params.initializationOptions, {
    codeLensThreshold: 3,
    sandbox: { poolSize: 0 },
    workspaceTrusted: true,
  });

  // The server's diagnostic lands in VS Code's Problems, at the UTF-16 column of eval.
  const diagnostics = await waitFor('ARK001', () => control.recorded.diagnostics.get(document.uri.toString())?.length && control.recorded.diagnostics.get(document.uri.toString()));
  assert.equal(diagnostics.length, 1);
  const [eval_] = diagnostics;
  const line = sampleText.split('\n').findIndex((text) => text.includes('eval('));
  assert.deepEqual(eval_.range.start, new vscode.Position(line, sampleText.split('\n')[line].indexOf('eval(')));
  assert.equal(eval_.code.value ?? eval_.code, 'ARK001');
  assert.equal(eval_.source, 'ark');
  assert.equal(eval_.severity, vscode.DiagnosticSeverity.Error);

  // The server asks for its settings per folder; the answer is again only what was set.
  const [asked] = await waitFor('workspace/configuration', () => wire.asked('workspace/configuration').length && wire.asked('workspace/configuration'));
  assert.deepEqual(asked.params.items, [{ scopeUri: vscode.Uri.file(workspace).toString(), section: 'ark' }]);
  const answer = await waitFor('the answer', () => wire.answered(asked));
  assert.deepEqual(answer.result, [{ codeLensThreshold: 3, sandbox: { poolSize: 0 } }]);

  // The status bar item: indexing progress from $/progress, then ready, with the sandbox backend.
  const [status] = control.recorded.statusItems;
  await waitFor('the index to be ready', () => /Index: workspace ready/.test(status.tooltip?.value ?? ''));
  assert.equal(status.text, '$(shield) ARK · sandbox: auto');
  assert.ok(
    status.texts.some((text) => /^\$\(sync~spin\) ARK: indexing workspace \d+%$/.test(text)),
    JSON.stringify(status.texts),
  );

  // A changed setting reaches the running server; no restart.
  control.set('ark.codeLensThreshold', 5);
  control.changeSettings('ark.codeLensThreshold');
  const [change] = await waitFor('didChangeConfiguration', () => wire.sent('workspace/didChangeConfiguration').length && wire.sent('workspace/didChangeConfiguration'));
  assert.deepEqual(change.params.settings, { ark: { codeLensThreshold: 5, sandbox: { poolSize: 0 } } });
  control.set('ark.sandbox.backend', 'docker', 'globalValue');
  control.changeSettings('ark.sandbox.backend');
  // New settings make the server index again; then the item settles on the new backend.
  await waitFor('the docker backend in the status bar', () => status.text === '$(shield) ARK · sandbox: docker');
  assert.equal(wire.starts().length, 1);

  // Commands send the server's ids with the editor's file and cursor.
  control.focus(document, 6, 4);
  const calls = [
    ['ark.generateTestsAtCursor', 'ark.generateTests', [{ uri: document.uri.toString(), position: { line: 6, character: 4 } }], 'Generate Tests'],
    ['ark.generateFunctionAtCursor', 'ark.generateFunction', [{ uri: document.uri.toString(), position: { line: 6, character: 4 } }], 'Generate Function'],
    ['ark.runFileInSandbox', 'ark.runInSandbox', [document.uri.toString()], 'Run File in Sandbox'],
    ['ark.runFileTestsInSandbox', 'ark.runTestsInSandbox', [document.uri.toString()], 'Run Tests in Sandbox'],
    ['ark.reindexWorkspace', 'ark.reindex', [vscode.Uri.file(workspace).toString()], 'Re-index Workspace'],
    ['ark.runGate', 'ark.gate', [vscode.Uri.file(workspace).toString()], 'Run the quality gate'],
  ];
  const opened = (_texts, documents) => documents.length > 0;
  // The server says how a run ended; the extension does not say it again.
  const ran = (texts) => texts.filter((text) => /^ARK sandbox \(.+\): (app\/)?loader\.py /.test(text)).length === 1;
  const done = (texts) => texts.some((text) => text.startsWith('ARK: '));
  const reindexed = (texts) => texts.some((text) => /^ARK: re-indexed workspace: \d+ files scanned, \d+ indexed, \d+ unchanged in [\d.]+ s$/.test(text));
  // The server says how the gate judged, once.
  const gated = (texts) => texts.filter((text) => /^ARK gate (passed|failed): /.test(text)).length === 1;
  const shownOnSuccess = { 'Generate Tests': opened, 'Generate Function': done, 'Run File in Sandbox': ran, 'Run Tests in Sandbox': ran, 'Re-index Workspace': reindexed, 'Run the quality gate': gated };
  for (const [vscodeCommand, serverCommand, args, title] of calls) {
    const shownBefore = control.recorded.messages.length;
    await vscode.commands.executeCommand(vscodeCommand);
    const request = wire.sent('workspace/executeCommand').find((m) => m.params.command === serverCommand);
    assert.ok(request, `${vscodeCommand} sent no ${serverCommand}`);
    assert.deepEqual(request.params.arguments, args);
    const answer = wire.answerTo(request);
    assert.ok(answer, `the server never answered ${serverCommand}`);
    assertAnswered(control, shownBefore, answer, title, shownOnSuccess[title]);
  }

  // A new interpreter means a new server process.
  control.changeSettings('ark.interpreter');
  await waitFor('a restart', () => wire.starts().length === 2);
  await waitFor('the restarted server', () => status.text.startsWith('$(shield)'));
});

test("uses the Python extension's active environment when ark.interpreter is unset", { timeout: 90_000 }, async () => {
  const { control, vscode } = load();
  const { workspace, interpreter, wire } = setUp();
  control.addFolder(workspace);
  const changed = new vscode.EventEmitter();
  control.setPythonExtension({
    isActive: true,
    exports: {
      environments: {
        getActiveEnvironmentPath: () => ({ path: 'the-active-env' }),
        resolveEnvironment: async (env) =>
          env.path === 'the-active-env' ? { executable: { uri: vscode.Uri.file(interpreter) } } : undefined,
        onDidChangeActiveEnvironmentPath: changed.event,
      },
    },
  });

  await active.activate(context(extensionFolder({ bundled: true }).folder));

  assert.deepEqual(wire.starts(), [['-P', '-m', 'ark_lsp', '--stdio']]);
  const log = control.recorded.channels.get('ARK').lines.join('\n');
  assert.match(log, new RegExp(`Python for the server: ${interpreter} \\(from Python extension\\)`));
  // Choosing another environment in the Python extension restarts ARK with it.
  changed.fire({});
  await waitFor('a restart', () => wire.starts().length === 2);
});

test('a Python the bundled server cannot run: the user is told to choose another, and no install is offered', { timeout: 60_000 }, async () => {
  const { control } = load();
  const { dir, workspace } = setUp();
  const old = path.join(dir, 'python3.10');
  fs.writeFileSync(old, '#!/bin/sh\necho "ARK needs Python 3.11 or newer, this is 3.10.13" >&2\nexit 1\n', { mode: 0o755 });
  control.addFolder(workspace);
  control.set('ark.interpreter', old);
  control.answerNextMessage('Choose Interpreter');

  await active.activate(context(extensionFolder({ bundled: true }).folder));

  const [shown] = control.recorded.messages;
  assert.equal(shown.kind, 'error');
  assert.equal(
    shown.text,
    `ARK cannot start: ARK needs Python 3.11 or newer, this is 3.10.13. The extension carries the ARK server and needs only a Python 3.11 or newer to run it; choose one instead of ${old} (from ark.interpreter). The bundled server runs on CPython 3.11, 3.12, 3.13, 3.14 (linux-x64).`,
  );
  assert.deepEqual(shown.items, ['Choose Interpreter', 'Show Install Instructions']);
  assert.deepEqual(control.recorded.terminals, []);
  assert.equal(control.recorded.statusItems[0].text, '$(warning) ARK: needs Python 3.11+');
});

test('a development build without a bundle: the user is told to install the clone, and the button runs it', { timeout: 60_000 }, async () => {
  const { control } = load();
  const { dir, workspace } = setUp();
  const bare = path.join(dir, 'bare-python');
  fs.writeFileSync(bare, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'ark_lsp'\" >&2\nexit 1\n", { mode: 0o755 });
  control.addFolder(workspace);
  control.set('ark.interpreter', bare);
  control.answerNextMessage('Install in Terminal');
  const extension = extensionFolder({ clone: true });

  await active.activate(context(extension.folder));

  const [shown] = control.recorded.messages;
  assert.equal(shown.kind, 'error');
  const install = `${bare} -m pip install ${extension.root}`;
  assert.equal(
    shown.text,
    `ARK cannot start: ModuleNotFoundError: No module named 'ark_lsp'. This development build carries no server: install ARK from its clone into ${bare} (from ark.interpreter) with: ${install}`,
  );
  assert.deepEqual(shown.items, ['Install in Terminal', 'Choose Interpreter', 'Show Install Instructions']);
  const [terminal] = await waitFor('the install terminal', () => control.recorded.terminals.length && control.recorded.terminals);
  assert.deepEqual(terminal.sent, [install]);
  assert.equal(control.recorded.statusItems[0].text, '$(warning) ARK: not installed');
});
