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
import { CANCEL_COMMAND } from './status';

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

/** What the generate commands answer: the file they wrote to, when they did. */
interface Generated {
  applied?: boolean;
  uri?: string | null;
}

/** Open the file a generation wrote; the server's own message says what it did. */
async function reveal(result: unknown, what: string, log: vscode.LogOutputChannel): Promise<void> {
  if (result === undefined) {
    return; // the failure has been shown already
  }
  log.info(`${what}: ${JSON.stringify(result)}`);
  const { applied, uri } = (result ?? {}) as Generated;
  if (applied && uri) {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
    await vscode.window.showTextDocument(document, { preview: false });
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

/** A sandboxed run as the server answers it (RunResult.as_dict). */
interface RunAnswer {
  backend: string;
  outcome: string;
  exit_code: number | null;
  stdout: string;
  stderr: string;
  duration_ms: number;
  killed_by: string;
  isolation: string;
}

/**
 * What sandboxed runs printed, in an output channel shown beside the editor.
 * How a run ended is the server's message, shown once by the language client.
 */
class RunReport {
  private channel: vscode.OutputChannel | undefined;

  show(result: unknown, target: string): void {
    if (result === undefined || result === null || typeof result !== 'object') {
      return;
    }
    const run = result as RunAnswer;
    this.channel ??= vscode.window.createOutputChannel('ARK Sandbox');
    const channel = this.channel;
    channel.appendLine(`── ${target} (${run.backend})`);
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = run[stream];
      if (text) {
        channel.appendLine(`[${stream}]`);
        channel.append(text.endsWith('\n') ? text : `${text}\n`);
      }
    }
    if (run.isolation) {
      channel.appendLine(`note: ${run.isolation}`);
    }
    const ending = [
      run.outcome,
      run.exit_code === null ? undefined : `exit ${run.exit_code}`,
      run.killed_by === 'none' ? undefined : `stopped by the ${run.killed_by} limit`,
      `in ${run.duration_ms.toFixed(0)} ms`,
    ];
    channel.appendLine(ending.filter((part) => part !== undefined).join(', '));
    channel.show(true);
  }

  dispose(): void {
    this.channel?.dispose();
  }
}

/** The folder of the active editor's file, else the first folder. */
function activeFolder(): vscode.WorkspaceFolder | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  return (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
}

export function registerCommands(session: ServerSession, log: vscode.LogOutputChannel): vscode.Disposable[] {
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
    runs.show(result, path.basename(editor.document.uri.fsPath));
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
    vscode.commands.registerCommand('ark.runGate', async () => {
      // The gate judges files as they are on disk, against the last commit.
      await vscode.workspace.saveAll(false);
      const folder = activeFolder();
      const result = await session.execute('ark.gate', folder ? [folder.uri.toString()] : [], 'Run the quality gate');
      if (result !== undefined) {
        // The server shows the verdict and marks what is new; the whole report goes to the log.
        log.info(`Run the quality gate: ${JSON.stringify(result)}`);
      }
    }),
    vscode.commands.registerCommand('ark.reindexWorkspace', async () => {
      const folder = activeFolder();
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
