/**
 * The editor's commands. Those backed by the server send its
 * `workspace/executeCommand` ids (`ark.generateTests`, ...) with the active
 * editor's file and cursor. They have ids of their own because
 * vscode-languageclient registers the server's ids as VS Code commands itself
 * (for code lenses and code actions that carry them), and two registrations
 * of one id make VS Code refuse the second.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

import type { ServerSession } from './session';
import { CANCEL_COMMAND, type StatusItem } from './status';

type Result = Record<string, unknown>;

function activePython(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python') {
    void vscode.window.showWarningMessage('ARK: open a Python file first.');
    return undefined;
  }
  return editor;
}

function atCursor(editor: vscode.TextEditor): { uri: string; position: { line: number; character: number } } {
  const { line, character } = editor.selection.active;
  // VS Code positions are UTF-16 based, as is the encoding this client negotiates.
  return { uri: editor.document.uri.toString(), position: { line, character } };
}

function pick(result: Result, ...keys: string[]): unknown {
  for (const key of keys) {
    if (result[key] !== undefined && result[key] !== null) {
      return result[key];
    }
  }
  return undefined;
}

/** Files a command's result names (`uri`, `uris`, `path`, ...), as URIs. */
export function resultFiles(result: unknown): vscode.Uri[] {
  const toUri = (value: unknown): vscode.Uri | undefined => {
    if (typeof value !== 'string' || value === '') {
      return undefined;
    }
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? vscode.Uri.parse(value) : vscode.Uri.file(value);
  };
  if (typeof result === 'string') {
    return [toUri(result)].filter((uri): uri is vscode.Uri => uri !== undefined);
  }
  if (result === null || typeof result !== 'object') {
    return [];
  }
  const record = result as Result;
  const found: vscode.Uri[] = [];
  for (const key of ['uri', 'path', 'file', 'testFile', 'test_file', 'uris', 'paths', 'files']) {
    const value = record[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      const uri = toUri(item);
      if (uri) {
        found.push(uri);
      }
    }
  }
  return found;
}

async function reveal(result: unknown, what: string, log: vscode.LogOutputChannel): Promise<void> {
  if (result === undefined) {
    return; // the failure has been shown already
  }
  log.info(`${what}: ${JSON.stringify(result)}`);
  const [first] = resultFiles(result);
  if (first) {
    const document = await vscode.workspace.openTextDocument(first);
    await vscode.window.showTextDocument(document, { preview: false });
  }
  const message =
    result && typeof result === 'object' ? pick(result as Result, 'message', 'summary') : undefined;
  if (typeof message === 'string') {
    void vscode.window.showInformationMessage(`ARK: ${message}`);
  } else if (!first) {
    void vscode.window.showInformationMessage(`ARK: ${what} done.`);
  }
}

/** `ark.reindex`'s answer, `{folders: {root: figures}}`, as one line per folder. */
export function reindexSummary(result: unknown): string | undefined {
  const folders = (result as { folders?: Record<string, Record<string, unknown>> } | undefined)?.folders;
  if (!folders || typeof folders !== 'object') {
    return undefined;
  }
  return Object.entries(folders)
    .map(([root, figures]) => {
      const name = root.split(/[\\/]/).pop() ?? root;
      if (typeof figures.files_scanned !== 'number') {
        return `${name}: ${String(figures.state ?? 'not indexed')}${figures.detail ? ` (${String(figures.detail)})` : ''}`;
      }
      const seconds = typeof figures.duration_ms === 'number' ? ` in ${(figures.duration_ms / 1000).toFixed(2)} s` : '';
      return `${name}: ${figures.files_scanned} files scanned, ${String(figures.files_indexed)} indexed, ${String(figures.files_unchanged)} unchanged${seconds}`;
    })
    .join('; ');
}

/** Shows what a sandboxed run printed and how it ended. */
class RunReport {
  private channel: vscode.OutputChannel | undefined;

  show(result: unknown, target: string, status: StatusItem): void {
    if (result === undefined) {
      return;
    }
    const record: Result = result && typeof result === 'object' ? (result as Result) : { output: result };
    this.channel ??= vscode.window.createOutputChannel('ARK Sandbox');
    const channel = this.channel;
    const backend = pick(record, 'backend');
    if (typeof backend === 'string') {
      status.setSandboxUsed(backend);
    }
    channel.appendLine(`── ${target}${typeof backend === 'string' ? ` (${backend})` : ''}`);
    for (const key of ['stdout', 'stderr', 'output']) {
      const text = record[key];
      if (typeof text === 'string' && text !== '') {
        channel.appendLine(`[${key}]`);
        channel.append(text.endsWith('\n') ? text : `${text}\n`);
      }
    }
    const exitCode = pick(record, 'exit_code', 'exitCode', 'returncode');
    const duration = pick(record, 'duration', 'duration_s', 'durationSeconds');
    const limit = pick(record, 'killed_by', 'killedBy', 'limit_hit', 'timed_out', 'timedOut');
    // The server says killed_by "none" when no limit stopped the run.
    const killed = limit === 'none' ? undefined : limit;
    const notes = pick(record, 'warning', 'warnings', 'note', 'isolation');
    const ending = [
      exitCode === undefined ? undefined : `exit ${String(exitCode)}`,
      typeof duration === 'number' ? `in ${duration.toFixed(2)} s` : undefined,
      killed ? `stopped by a limit (${String(killed)})` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(' ');
    if (notes) {
      channel.appendLine(`note: ${Array.isArray(notes) ? notes.join('; ') : String(notes)}`);
    }
    channel.appendLine(ending || JSON.stringify(record));
    const failed = (typeof exitCode === 'number' && exitCode !== 0) || Boolean(killed);
    const message = `ARK: ${target} ${ending || 'finished'}${typeof backend === 'string' ? ` (${backend})` : ''}`;
    const showOutput = 'Show Output';
    const notify = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void Promise.resolve(notify(message, showOutput)).then((answer) => {
      if (answer === showOutput) {
        channel.show(true);
      }
    });
  }

  dispose(): void {
    this.channel?.dispose();
  }
}

export function registerCommands(
  session: ServerSession,
  log: vscode.LogOutputChannel,
  status: StatusItem,
): vscode.Disposable[] {
  const runs = new RunReport();

  const runFile = async (serverCommand: string, title: string): Promise<void> => {
    const editor = activePython();
    if (!editor) {
      return;
    }
    // Run what the user sees: the sandbox reads files from disk.
    if (editor.document.isDirty && !(await editor.document.save())) {
      return;
    }
    const result = await session.execute(serverCommand, [editor.document.uri.toString()], title);
    runs.show(result, path.basename(editor.document.uri.fsPath), status);
  };

  return [
    runs,
    vscode.commands.registerCommand('ark.restart', () => session.restart('requested by the user')),
    vscode.commands.registerCommand('ark.showOutput', () => log.show()),
    // Not in the palette: the status bar item runs it while a cancellable run shows.
    vscode.commands.registerCommand(CANCEL_COMMAND, () => session.cancelProgress()),
    vscode.commands.registerCommand('ark.generateFunctionAtCursor', async () => {
      const editor = activePython();
      if (editor) {
        const result = await session.execute('ark.generateFunction', [atCursor(editor)], 'Generate Function');
        await reveal(result, 'Generate Function', log);
      }
    }),
    vscode.commands.registerCommand('ark.generateTestsAtCursor', async () => {
      const editor = activePython();
      if (editor) {
        const result = await session.execute('ark.generateTests', [atCursor(editor)], 'Generate Tests');
        await reveal(result, 'Generate Tests', log);
      }
    }),
    vscode.commands.registerCommand('ark.runFileInSandbox', () =>
      runFile('ark.runInSandbox', 'Run File in Sandbox'),
    ),
    vscode.commands.registerCommand('ark.runFileTestsInSandbox', () =>
      runFile('ark.runTestsInSandbox', 'Run Tests in Sandbox'),
    ),
    vscode.commands.registerCommand('ark.reindexWorkspace', async () => {
      const active = vscode.window.activeTextEditor?.document.uri;
      const folder =
        (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
      const result = await session.execute(
        'ark.reindex',
        folder ? [folder.uri.toString()] : [],
        'Re-index Workspace',
      );
      const summary = reindexSummary(result);
      if (summary) {
        log.info(`Re-index Workspace: ${JSON.stringify(result)}`);
        void vscode.window.showInformationMessage(`ARK: re-indexed ${summary}`);
      } else {
        await reveal(result, 'Re-index Workspace', log);
      }
    }),
  ];
}
