/**
 * The `ark.*` settings the server reads, built from package.json's own
 * `contributes.configuration`, so the list of names is written once.
 *
 * Only values a person has set (user, workspace or folder settings) are sent.
 * The defaults in package.json are the server's own, and sending them would
 * override what the project says in `[tool.ark]` of its pyproject.toml.
 */
import * as vscode from 'vscode';

/** Settings the extension itself consumes; the server never sees them. */
export const CLIENT_ONLY_SETTINGS: readonly string[] = ['interpreter', 'trace.server'];

/**
 * Settings an untrusted workspace may not set (mirrors
 * `capabilities.untrustedWorkspaces.restrictedConfigurations`, and the
 * server's privileged settings): they choose what program runs, where ARK
 * writes, or loosen the sandbox.
 */
export const RESTRICTED_SETTINGS: readonly string[] = [
  'interpreter',
  'database',
  'jobs',
  'sandbox.backend',
  'sandbox.image',
  'sandbox.timeout',
  'sandbox.suiteTimeout',
  'sandbox.memory',
  'sandbox.suiteMemory',
  'sandbox.cpus',
  'sandbox.pids',
  'sandbox.network',
  'sandbox.poolSize',
  'sandbox.mountWorkspace',
  'sandbox.python',
  'sandbox.weakIsolation',
];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type SettingsTree = { [key: string]: Json };

/** Names under `ark.` that the server reads, e.g. `codeLensThreshold`, `sandbox.poolSize`. */
export function serverSettingNames(packageJson: unknown): string[] {
  const properties = (packageJson as {
    contributes?: { configuration?: { properties?: Record<string, unknown> } };
  }).contributes?.configuration?.properties;
  return Object.keys(properties ?? {})
    .filter((key) => key.startsWith('ark.'))
    .map((key) => key.slice('ark.'.length))
    .filter((name) => !CLIENT_ONLY_SETTINGS.includes(name));
}

/** The value a person set for `ark.<name>`, most specific scope first; undefined when unset. */
export function explicitValue(
  configuration: vscode.WorkspaceConfiguration,
  name: string,
  trusted: boolean,
): unknown {
  const inspected = configuration.inspect(name);
  if (!inspected) {
    return undefined;
  }
  if (!trusted && RESTRICTED_SETTINGS.includes(name)) {
    return inspected.globalValue;
  }
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

/**
 * The `ark` section as the server wants it: camelCase keys, `sandbox.*` as a
 * nested object, and only what was set. The same object goes out as
 * `initializationOptions`, as the answer to `workspace/configuration` and in
 * `workspace/didChangeConfiguration`.
 */
export function serverSettings(names: readonly string[], scope?: vscode.Uri): SettingsTree {
  const configuration = vscode.workspace.getConfiguration('ark', scope ?? null);
  const trusted = vscode.workspace.isTrusted;
  const tree: SettingsTree = {};
  for (const name of names) {
    const value = explicitValue(configuration, name, trusted);
    if (value === undefined) {
      continue;
    }
    const path = name.split('.');
    let node = tree;
    for (const part of path.slice(0, -1)) {
      const child = node[part];
      if (child === null || typeof child !== 'object' || Array.isArray(child)) {
        node[part] = {};
      }
      node = node[part] as SettingsTree;
    }
    node[path[path.length - 1]] = value as Json;
  }
  return tree;
}

/** The subtree a `workspace/configuration` item asks for: `ark`, `ark.sandbox`, ... */
export function section(tree: SettingsTree, name: string): Json {
  let node: Json = tree;
  for (const part of name.split('.').slice(1)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      return null;
    }
    node = node[part] ?? null;
  }
  return node;
}
