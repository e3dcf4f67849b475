/** ARK for VS Code: starts the ARK language server and adds its commands. */
import * as vscode from 'vscode';

import { registerCommands } from './commands';
import { ServerSession } from './session';
import { serverSettingNames } from './settings';
import { StatusItem } from './status';

let session: ServerSession | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('ARK', { log: true });
  const status = new StatusItem();
  session = new ServerSession(
    serverSettingNames(context.extension.packageJSON),
    log,
    status,
    context.extensionPath,
  );
  context.subscriptions.push(log, status, session, ...registerCommands(session, log));
  await session.start();
}

export async function deactivate(): Promise<void> {
  await session?.stop();
  session = undefined;
}
