/**
 * One status bar item: whether the server runs, how far indexing has got,
 * and which sandbox backend runs code.
 */
import * as vscode from 'vscode';

type ServerState =
  | { kind: 'starting' }
  | { kind: 'ready'; version: string }
  | { kind: 'not-installed'; reason: string }
  | { kind: 'needs-python'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'stopped' };

interface Progress {
  title: string;
  message?: string;
  percentage?: number;
  cancellable?: boolean;
}

/** The server's `ark/status` notification: where each folder's index stands. */
export interface ServerStatus {
  folders?: { root: string; state: string; detail?: string; indexed?: number | null }[];
  sandboxBackend?: string;
}

/** The command the item runs while a cancellable run is shown. */
export const CANCEL_COMMAND = 'ark.cancelProgress';

export class StatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: ServerState = { kind: 'stopped' };
  private readonly progress = new Map<string, Progress>();
  private indexSummary = 'not indexed yet';
  private indexFailed = false;
  /** The configured backend until a run reports the one it used. */
  private sandbox = 'auto';

  constructor() {
    this.item = vscode.window.createStatusBarItem('ark.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'ARK';
    this.item.command = 'ark.showOutput';
    this.render();
    this.item.show();
  }

  setState(state: ServerState): void {
    this.state = state;
    if (state.kind !== 'ready') {
      this.progress.clear();
    }
    this.render();
  }

  /** The sandbox backend from the settings, until the server says which one runs use. */
  setConfiguredSandbox(backend: string): void {
    this.sandbox = backend;
    this.render();
  }

  progressBegin(token: string, title: string, message?: string, percentage?: number, cancellable?: boolean): void {
    // The server titles its work "ARK: indexing <folder>"; the item says ARK already.
    this.progress.set(token, { title: title.replace(/^ARK:\s*/, ''), message, percentage, cancellable });
    this.render();
  }

  /** The newest run the user may cancel, if any. */
  get cancellableToken(): string | undefined {
    return [...this.progress.entries()].reverse().find(([, progress]) => progress.cancellable)?.[0];
  }

  /** What `ark/status` says: index state per folder and the sandbox backend. */
  setServerStatus(status: ServerStatus): void {
    const folders = status.folders ?? [];
    const name = (root: string): string => root.split(/[\\/]/).pop() ?? root;
    const failed = folders.filter((folder) => folder.state === 'failed');
    if (failed.length > 0) {
      this.indexSummary = failed.map((folder) => `${name(folder.root)} failed: ${folder.detail ?? ''}`).join('; ');
    } else if (folders.length > 0) {
      this.indexSummary = folders
        .map((folder) => `${name(folder.root)} ${folder.state}${folder.detail ? ` (${folder.detail})` : ''}`)
        .join('; ');
    }
    this.indexFailed = failed.length > 0;
    if (status.sandboxBackend) {
      // The backend "auto" chose, once a run has chosen.
      this.sandbox = status.sandboxBackend;
    }
    this.render();
  }

  progressReport(token: string, message?: string, percentage?: number): void {
    const current = this.progress.get(token);
    if (current) {
      this.progress.set(token, {
        title: current.title,
        message: message ?? current.message,
        percentage: percentage ?? current.percentage,
      });
      this.render();
    }
  }

  progressEnd(token: string, message?: string): void {
    const finished = this.progress.get(token);
    this.progress.delete(token);
    if (finished && /index/i.test(finished.title)) {
      this.indexSummary = message ?? 'up to date';
    }
    this.render();
  }

  /** What the item shows, for tests and for the tooltip. */
  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const running = [...this.progress.values()].pop();
    const tooltip = new vscode.MarkdownString(undefined, true);
    this.item.backgroundColor = undefined;
    this.item.command = this.cancellableToken ? CANCEL_COMMAND : 'ark.showOutput';
    switch (this.state.kind) {
      case 'starting':
        this.item.text = '$(loading~spin) ARK';
        tooltip.appendMarkdown('ARK: starting the server');
        break;
      case 'ready':
        if (running) {
          const percent = running.percentage === undefined ? '' : ` ${Math.round(running.percentage)}%`;
          this.item.text = `$(sync~spin) ARK: ${running.title}${percent}`;
        } else if (this.indexFailed) {
          this.item.text = `$(warning) ARK · sandbox: ${this.sandbox}`;
          this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        } else {
          this.item.text = `$(shield) ARK · sandbox: ${this.sandbox}`;
        }
        tooltip.appendMarkdown(`ARK ${this.state.version}\n\n`);
        tooltip.appendMarkdown(
          `Index: ${running ? `${running.title}${running.message ? ` (${running.message})` : ''}` : this.indexSummary}\n\n`,
        );
        if (this.cancellableToken) {
          tooltip.appendMarkdown('Click to cancel.\n\n');
        }
        break;
      case 'not-installed':
        this.item.text = '$(warning) ARK: not installed';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        tooltip.appendMarkdown(`ARK cannot start: ${this.state.reason}`);
        break;
      case 'needs-python':
        // The extension carries the server; what is missing is a Python to run it.
        this.item.text = '$(warning) ARK: needs Python 3.11+';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        tooltip.appendMarkdown(`ARK cannot start: ${this.state.reason}`);
        break;
      case 'failed':
        this.item.text = '$(error) ARK';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tooltip.appendMarkdown(`ARK stopped: ${this.state.reason}\n\nClick for the log.`);
        break;
      case 'stopped':
        this.item.text = '$(circle-slash) ARK';
        tooltip.appendMarkdown('ARK: server stopped');
        break;
    }
    tooltip.appendMarkdown(`\n\nSandbox: ${this.sandbox}`);
    this.item.tooltip = tooltip;
    // What the tooltip says, for screen readers: the server, the index, the sandbox.
    this.item.accessibilityInformation = {
      label: `ARK ${this.state.kind}, index: ${running ? running.title : this.indexSummary}, sandbox ${this.sandbox}`,
    };
  }

  dispose(): void {
    this.item.dispose();
  }
}
