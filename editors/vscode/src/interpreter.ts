/**
 * Which Python runs the server, and whether it can: the `ark.interpreter`
 * setting, else the Python extension's active environment, else `python3`
 * on PATH (the order of Microsoft's python-tools extension template).
 */
import { execFile } from 'node:child_process';
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

export type ImportCheck =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: string };

/** Probe the interpreter the way the server will be started: can it import ARK? */
const PROBE = [
  'import sys',
  'if sys.version_info < (3, 11): sys.exit("ARK needs Python 3.11 or newer, this is " + sys.version.split()[0])',
  'import ark_lsp',
  'print(ark_lsp.__version__)',
].join('\n');

export function checkInterpreter(interpreter: Interpreter): Promise<ImportCheck> {
  return new Promise((resolve) => {
    execFile(
      interpreter.command,
      ['-c', PROBE],
      { timeout: 30_000, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, version: stdout.trim() });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          resolve({ ok: false, reason: `${interpreter.command} was not found` });
          return;
        }
        const lastLine = stderr.trim().split('\n').pop() ?? error.message;
        resolve({ ok: false, reason: lastLine });
      },
    );
  });
}

/** The shell command that installs ARK into the interpreter. */
export function installCommand(interpreter: Interpreter): string {
  const quoted = /[\s"'$`\\]/.test(interpreter.command)
    ? `"${interpreter.command.replace(/(["$`\\])/g, '\\$1')}"`
    : interpreter.command;
  // PowerShell, VS Code's default shell on Windows, runs a quoted path only after `&`.
  const call = process.platform === 'win32' && quoted !== interpreter.command ? `& ${quoted}` : quoted;
  return `${call} -m pip install --upgrade ark-lsp`;
}
