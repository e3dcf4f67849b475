/**
 * The server's life: pick the interpreter, check it can run the ARK the
 * extension carries, start `python -P -m ark_lsp` with that code first on
 * PYTHONPATH, feed it settings, restart it when asked or when the
 * interpreter changes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  type ClientCapabilities,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  type FeatureState,
  LanguageClient,
  type LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
  type StaticFeature,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

import {
  checkInterpreter,
  installCommand,
  type Interpreter,
  pythonEnvironments,
  resolveInterpreter,
  SERVER_ARGS,
  type ServerCode,
  serverCode,
  serverEnvironment,
} from './interpreter';
import { section, serverSettings } from './settings';
import type { ServerStatus, StatusItem } from './status';

/** The server's index state per folder and its sandbox backend, for the status bar. */
const STATUS_NOTIFICATION = 'ark/status';
const RESTART_DEBOUNCE_MS = 300;

/**
 * Server progress (`$/progress` after `window/workDoneProgress/create`) drives
 * the status bar item rather than a notification per indexing run. Registered
 * after the built-in progress feature, so its handler is the one in force.
 */
class StatusProgressFeature implements StaticFeature {
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly client: LanguageClient,
    private readonly status: StatusItem,
  ) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = { ...capabilities.window, workDoneProgress: true };
  }

  initialize(): void {
    this.subscriptions.push(
      this.client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
        const key = String(token);
        const listener = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
          if (value.kind === 'begin') {
            this.status.progressBegin(key, value.title, value.message, value.percentage, value.cancellable);
          } else if (value.kind === 'report') {
            this.status.progressReport(key, value.message, value.percentage);
          } else {
            this.status.progressEnd(key, value.message);
            listener.dispose();
          }
        });
        this.subscriptions.push(listener);
      }),
    );
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    this.subscriptions.splice(0).forEach((subscription) => subscription.dispose());
  }
}

export class ServerSession implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private interpreter: Interpreter | undefined;
  private lastSettings = '';
  private restartTimer: NodeJS.Timeout | undefined;
  private restartWaiters: (() => void)[] = [];
  private pending: Promise<void> = Promise.resolve();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly settingNames: readonly string[],
    private readonly log: vscode.LogOutputChannel,
    private readonly status: StatusItem,
    /** The extension's folder: its README, and the server it carries in bundled/libs. */
    private readonly extensionPath: string,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.restart('the workspace is now trusted')),
    );
    this.status.setConfiguredSandbox(this.configuredSandbox());
    void this.watchPythonExtension();
  }

  /** Start the server, unless it runs already. Serialised with stop and restart. */
  start(): Promise<void> {
    return this.serialise(() => this.doStart());
  }

  /** Restart after a short pause, so a burst of changes restarts once; every caller waits for it. */
  restart(reason: string): Promise<void> {
    clearTimeout(this.restartTimer);
    return new Promise((resolve) => {
      this.restartWaiters.push(resolve);
      this.restartTimer = setTimeout(() => {
        const waiters = this.restartWaiters.splice(0);
        this.log.info(`Restarting the server: ${reason}`);
        const done = (): void => waiters.forEach((waiter) => waiter());
        this.serialise(async () => {
          await this.doStop();
          await this.doStart();
        }).then(done, done);
      }, RESTART_DEBOUNCE_MS);
    });
  }

  stop(): Promise<void> {
    return this.serialise(() => this.doStop());
  }

  /** Ask the server to stop the newest cancellable run the status bar shows. */
  cancelProgress(): void {
    const token = this.status.cancellableToken;
    if (token && this.client?.isRunning()) {
      void this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
    }
  }

  /** Run one of the server's `workspace/executeCommand` commands; errors become messages. */
  async execute(command: string, args: unknown[], title: string): Promise<unknown> {
    if (!this.client?.isRunning()) {
      await this.start();
    }
    const client = this.client;
    if (!client?.isRunning()) {
      void vscode.window.showErrorMessage(`ARK: ${title} needs the ARK server, which is not running.`);
      return undefined;
    }
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `ARK: ${title}` },
        () => client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }),
      );
    } catch (error) {
      const reason = error instanceof ResponseError || error instanceof Error ? error.message : String(error);
      this.log.error(`${command} failed: ${reason}`);
      void vscode.window.showErrorMessage(`ARK: ${title} failed: ${reason}`);
      return undefined;
    }
  }

  private serialise(step: () => Promise<void>): Promise<void> {
    this.pending = this.pending.then(step, step);
    return this.pending;
  }

  private settings(scope?: vscode.Uri): ReturnType<typeof serverSettings> {
    return serverSettings(this.settingNames, scope);
  }

  private configuredSandbox(): string {
    return vscode.workspace.getConfiguration('ark').get<string>('sandbox.backend') ?? 'auto';
  }

  private async doStart(): Promise<void> {
    if (this.client) {
      return;
    }
    this.status.setState({ kind: 'starting' });
    const resource = vscode.window.activeTextEditor?.document.uri;
    const interpreter = await resolveInterpreter(resource, this.log);
    this.interpreter = interpreter;
    this.log.info(`Python for the server: ${interpreter.command} (from ${interpreter.source})`);
    const code = serverCode(this.extensionPath);
    const check = await checkInterpreter(interpreter, code, this.extensionPath);
    if (!check.ok) {
      this.log.error(`${interpreter.command} cannot run ARK: ${check.reason}`);
      this.status.setState({ kind: code.bundled ? 'needs-python' : 'not-installed', reason: check.reason });
      void this.offerHelp(interpreter, code, check.reason);
      return;
    }
    const origin = code.bundled ? 'bundled with the extension' : "the interpreter's own";
    this.log.info(`ARK ${check.version} from ${check.location} (${origin})`);

    const folder = vscode.workspace.workspaceFolders?.[0];
    const serverOptions: ServerOptions = {
      command: interpreter.command,
      args: SERVER_ARGS,
      // vscode-languageclient appends --stdio, which `python -m ark_lsp` accepts.
      transport: TransportKind.stdio,
      options: { cwd: folder?.uri.fsPath, env: serverEnvironment(code) },
    };
    const initial = this.settings(folder?.uri);
    this.lastSettings = JSON.stringify(initial);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
      ],
      diagnosticCollectionName: 'ark',
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // The server also hears VS Code's word on the folder: in restricted mode it runs
      // none of the folder's code and ignores [tool.ark]'s privileged settings.
      initializationOptions: { ...initial, workspaceTrusted: vscode.workspace.isTrusted },
      middleware: {
        workspace: {
          // Answer `workspace/configuration` for `ark` with what the user set,
          // per folder; any other section goes to VS Code as usual.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (answers instanceof ResponseError) {
              return answers;
            }
            return params.items.map((item, index) =>
              item.section === 'ark' || item.section?.startsWith('ark.')
                ? section(
                    this.settings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined),
                    item.section,
                  )
                : answers[index],
            );
          },
        },
      },
    };
    const client = new LanguageClient('ark', 'ARK', serverOptions, clientOptions);
    client.registerFeature(new StatusProgressFeature(client, this.status));
    client.onNotification(STATUS_NOTIFICATION, (status: ServerStatus) => this.status.setServerStatus(status));
    client.onDidChangeState(({ newState }) => {
      if (this.client !== client) {
        return; // a client being replaced by a restart
      }
      if (newState === State.Stopped) {
        this.status.setState({ kind: 'failed', reason: 'the server exited' });
      } else if (newState === State.Running && client.initializeResult) {
        // The client restarts a crashed server by itself a few times.
        const version = client.initializeResult.serverInfo?.version ?? check.version;
        this.status.setState({ kind: 'ready', version });
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      const reason = error instanceof Error ? error.message : String(error);
      this.log.error(`The server did not start: ${reason}`);
      this.status.setState({ kind: 'failed', reason });
      return;
    }
    const server = client.initializeResult?.serverInfo;
    this.status.setState({ kind: 'ready', version: server?.version ?? check.version });
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.dispose(2000);
      } catch (error) {
        this.log.warn(`The server did not stop cleanly: ${String(error)}`);
      }
    }
    this.status.setState({ kind: 'stopped' });
  }

  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration('ark')) {
      return;
    }
    this.status.setConfiguredSandbox(this.configuredSandbox());
    if (event.affectsConfiguration('ark.interpreter')) {
      void this.restart('ark.interpreter changed');
      return;
    }
    const settings = this.settings(vscode.workspace.workspaceFolders?.[0]?.uri);
    const serialised = JSON.stringify(settings);
    if (serialised === this.lastSettings) {
      return; // e.g. only ark.trace.server changed, which the client applies itself
    }
    this.lastSettings = serialised;
    if (this.client?.isRunning()) {
      // The server applies new settings without a restart.
      void this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { ark: settings },
      });
    }
  }

  private async watchPythonExtension(): Promise<void> {
    const environments = await pythonEnvironments();
    const event = environments?.onDidChangeActiveEnvironmentPath;
    if (event) {
      this.subscriptions.push(
        event(() => {
          if (this.interpreter?.source !== 'ark.interpreter') {
            void this.restart("the Python extension's active environment changed");
          }
        }),
      );
    }
  }

  /**
   * Say why the server cannot start and what works: with the bundled server, a Python
   * 3.11+ to run it; in a development build from a clone, installing that clone.
   */
  private async offerHelp(interpreter: Interpreter, code: ServerCode, reason: string): Promise<void> {
    const install = 'Install in Terminal';
    const choose = 'Choose Interpreter';
    const instructions = 'Show Install Instructions';
    const where = `${interpreter.command} (from ${interpreter.source})`;
    let message: string;
    let command: string | undefined;
    if (code.bundled) {
      const carried = code.re2Pythons?.length
        ? ` The bundled server runs on CPython ${code.re2Pythons.join(', ')}${code.target ? ` (${code.target})` : ''}.`
        : '';
      message = `ARK cannot start: ${reason}. The extension carries the ARK server and needs only a Python 3.11 or newer to run it; choose one instead of ${where}.${carried}`;
    } else if (code.clone) {
      command = installCommand(interpreter, code.clone);
      message = `ARK cannot start: ${reason}. This development build carries no server: install ARK from its clone into ${where} with: ${command}`;
    } else {
      message = `ARK cannot start: ${reason}. Install ARK into ${where} from a clone of ARK or a wheel built there (python -m pip install ./dist/ark_lsp-*.whl), or install a packaged .vsix, which carries the server.`;
    }
    const answer = await vscode.window.showErrorMessage(
      message,
      ...(command ? [install] : []),
      choose,
      instructions,
    );
    if (answer === install && command) {
      const terminal = vscode.window.createTerminal({ name: 'ARK: install' });
      terminal.show();
      terminal.sendText(command);
      const done = vscode.window.onDidCloseTerminal((closed) => {
        if (closed === terminal) {
          done.dispose();
          void this.restart('the install terminal closed');
        }
      });
      this.subscriptions.push(done);
      void vscode.window.showInformationMessage(
        'ARK: when the install has finished, run "ARK: Restart Server" (or close the terminal).',
      );
    } else if (answer === choose) {
      const commands = await vscode.commands.getCommands(true);
      if (commands.includes('python.setInterpreter')) {
        await vscode.commands.executeCommand('python.setInterpreter');
      } else {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'ark.interpreter');
      }
    } else if (answer === instructions) {
      // The README that came with the extension says how to install; no web page is assumed.
      // vsce stores it as readme.md; a development build has README.md.
      const readme = ['readme.md', 'README.md']
        .map((name) => vscode.Uri.file(path.join(this.extensionPath, name)))
        .find((uri) => fs.existsSync(uri.fsPath));
      if (readme) {
        await vscode.commands.executeCommand('markdown.showPreview', readme);
      }
    }
  }

  dispose(): void {
    clearTimeout(this.restartTimer);
    this.restartWaiters.splice(0).forEach((waiter) => waiter());
    this.subscriptions.splice(0).forEach((subscription) => subscription.dispose());
    void this.stop();
  }
}
