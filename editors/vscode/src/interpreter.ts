/**
 * Which Python runs the server, and whether it can: the `ark.interpreter`
 * setting, else the Python extension's active environment, else `python3`
 * on PATH (the order of Microsoft's python-tools extension template). The
 * server's code is the one the extension carries in `bundled/libs`, put in
 * front of that Python's own packages with PYTHONPATH.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { explicitValue } from './settings';

export type InterpreterSource = 'ark.interpreter' | 'Python extension' | 'PATH';

export interface Interpreter {
  readonly command: string;
  readonly source: InterpreterSource;
}

/** What ARK needs of the Python extension's API (`ms-python.python` exports). */
interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  resolveEnvironment(
    environment: { path: string } | string,
  ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
}

const PYTHON_EXTENSION = 'ms-python.python';
/** The Python extension can take long to activate; never let it hold the server back for good. */
const PYTHON_EXTENSION_TIMEOUT_MS = 15_000;

function expand(value: string, folder: vscode.WorkspaceFolder | undefined): string {
  let expanded = value.replace(/\$\{userHome\}/g, os.homedir());
  if (expanded === '~' || expanded.startsWith('~/')) {
    expanded = path.join(os.homedir(), expanded.slice(1));
  }
  if (folder) {
    expanded = expanded.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath);
  }
  if (folder && !path.isAbsolute(expanded) && expanded.includes(path.sep)) {
    expanded = path.join(folder.uri.fsPath, expanded);
  }
  return expanded;
}

async function withTimeout<T>(promise: Thenable<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([Promise.resolve(promise), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The Python extension's environments API, when that extension is installed. */
export async function pythonEnvironments(): Promise<PythonEnvironmentsApi | undefined> {
  const extension = vscode.extensions.getExtension<{ environments?: PythonEnvironmentsApi }>(
    PYTHON_EXTENSION,
  );
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive
      ? extension.exports
      : await withTimeout(extension.activate(), PYTHON_EXTENSION_TIMEOUT_MS);
    return api?.environments;
  } catch {
    return undefined;
  }
}

export async function resolveInterpreter(
  resource: vscode.Uri | undefined,
  log: vscode.LogOutputChannel,
): Promise<Interpreter> {
  const folder = resource
    ? vscode.workspace.getWorkspaceFolder(resource)
    : vscode.workspace.workspaceFolders?.[0];
  const configured = explicitValue(
    vscode.workspace.getConfiguration('ark', folder?.uri ?? null),
    'interpreter',
    vscode.workspace.isTrusted,
  );
  if (typeof configured === 'string' && configured.trim() !== '') {
    return { command: expand(configured.trim(), folder), source: 'ark.interpreter' };
  }
  const environments = await pythonEnvironments();
  if (environments) {
    try {
      const active = environments.getActiveEnvironmentPath(folder?.uri);
      const resolved = active ? await environments.resolveEnvironment(active) : undefined;
      const executable = resolved?.executable.uri?.fsPath;
      if (executable) {
        return { command: executable, source: 'Python extension' };
      }
    } catch (error) {
      log.warn(`The Python extension could not name its active environment: ${String(error)}`);
    }
  }
  return { command: process.platform === 'win32' ? 'python' : 'python3', source: 'PATH' };
}

/**
 * Where the server's code comes from: the extension's `bundled/libs` (what
 * `npm run package` puts in the .vsix), else, for a development build run
 * from a clone of ARK, that interpreter's own packages.
 */
export interface ServerCode {
  /** The folder holding `ark_lsp` and its dependencies, when the extension carries them. */
  readonly bundled?: string;
  /** What the bundle was built for (bundled/bundle.json): its platform and RE2's CPythons. */
  readonly target?: string;
  readonly re2Pythons?: readonly string[];
  /** The clone of ARK a development build runs from: `pip install` of it gives the server. */
  readonly clone?: string;
}

export function serverCode(extensionPath: string): ServerCode {
  const libs = path.join(extensionPath, 'bundled', 'libs');
  if (fs.existsSync(path.join(libs, 'ark_lsp', '__init__.py'))) {
    let about: { target?: string; re2Pythons?: string[] } = {};
    try {
      about = JSON.parse(fs.readFileSync(path.join(extensionPath, 'bundled', 'bundle.json'), 'utf8'));
    } catch {
      // A bundle without its description still runs; only the advice is vaguer.
    }
    return { bundled: libs, target: about.target, re2Pythons: about.re2Pythons };
  }
  const root = path.resolve(extensionPath, '..', '..');
  try {
    if (/^name\s*=\s*"ark-lsp"/m.test(fs.readFileSync(path.join(root, 'pyproject.toml'), 'utf8'))) {
      return { clone: root };
    }
  } catch {
    // Not inside a clone.
  }
  return {};
}

/** The server's environment: the bundled code first on PYTHONPATH, ahead of anything the user set. */
export function serverEnvironment(code: ServerCode, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: '1' };
  if (code.bundled) {
    env.PYTHONPATH = [code.bundled, base.PYTHONPATH].filter((part) => part).join(path.delimiter);
  }
  return env;
}

/**
 * The server's arguments. `-P` (Python 3.11+): the workspace folder, the server's working
 * directory, is not put on `sys.path`, so no `ark_lsp` folder in it can stand in for ARK.
 */
export const SERVER_ARGS = ['-P', '-m', 'ark_lsp'];

export type ImportCheck =
  | { readonly ok: true; readonly version: string; readonly location: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Probe the interpreter the way the server will be started: can it import ARK,
 * and RE2, its one compiled dependency (its module is per CPython release)?
 */
const PROBE = [
  'import sys',
  'if sys.version_info < (3, 11): sys.exit("ARK needs Python 3.11 or newer, this is " + sys.version.split()[0])',
  'import ark_lsp',
  'try:',
  '    import re2',
  'except ImportError as error:',
  '    sys.exit("ARK\'s RE2 module does not load in Python " + sys.version.split()[0] + ": " + str(error))',
  'print(ark_lsp.__version__)',
  'print(ark_lsp.__file__)',
].join('\n');

export function checkInterpreter(interpreter: Interpreter, code: ServerCode, cwd: string): Promise<ImportCheck> {
  return new Promise((resolve) => {
    execFile(
      interpreter.command,
      ['-c', PROBE],
      // The probe runs where the extension lives: `-c` puts the working directory on sys.path.
      { timeout: 30_000, windowsHide: true, env: serverEnvironment(code), cwd },
      (error, stdout, stderr) => {
        if (!error) {
          const [version = '', location = ''] = stdout.trim().split(/\r?\n/);
          resolve({ ok: true, version: version.trim(), location: path.dirname(location.trim()) });
          return;
        }
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          resolve({ ok: false, reason: `${interpreter.command} was not found` });
          return;
        }
        const lastLine = stderr.trim().split('\n').pop() ?? error.message;
        resolve({ ok: false, reason: lastLine });
      },
    );
  });
}

function shellQuoted(word: string): string {
  return /[\s"'$`\\]/.test(word) ? `"${word.replace(/(["$`\\])/g, '\\$1')}"` : word;
}

/**
 * The shell command that installs ARK from `clone` into the interpreter: what a
 * development build without a bundle needs. ARK is not published on PyPI, so
 * no package name would do.
 */
export function installCommand(interpreter: Interpreter, clone: string): string {
  const quoted = shellQuoted(interpreter.command);
  // PowerShell, VS Code's default shell on Windows, runs a quoted path only after `&`.
  const call = process.platform === 'win32' && quoted !== interpreter.command ? `& ${quoted}` : quoted;
  return `${call} -m pip install ${shellQuoted(clone)}`;
}
