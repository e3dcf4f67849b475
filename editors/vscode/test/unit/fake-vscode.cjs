'use strict';
// A stand-in for the `vscode` module: enough of the API for the extension and
// vscode-languageclient to start a real server, with every call a user would
// notice (messages, diagnostics, status bar, terminals) recorded for asserts.
// It proves the TypeScript and the path from settings to the server; only the
// code-server test proves activation and what the workbench shows.
const path = require('node:path');
const { EventEmitter: NodeEmitter } = require('node:events');

class Disposable {
  constructor(fn) {
    this._fn = fn;
  }
  static from(...items) {
    return new Disposable(() => items.forEach((item) => item && item.dispose && item.dispose()));
  }
  dispose() {
    if (this._fn) {
      this._fn();
      this._fn = undefined;
    }
  }
}

class EventEmitter {
  constructor() {
    this._emitter = new NodeEmitter();
    this._emitter.setMaxListeners(100);
    this.event = (listener, thisArg, disposables) => {
      const bound = thisArg ? listener.bind(thisArg) : listener;
      this._emitter.on('e', bound);
      const disposable = new Disposable(() => this._emitter.off('e', bound));
      if (Array.isArray(disposables)) disposables.push(disposable);
      return disposable;
    };
  }
  fire(value) {
    this._emitter.emit('e', value);
  }
  dispose() {
    this._emitter.removeAllListeners();
  }
}

class Uri {
  constructor(scheme, authority, uriPath, query, fragment) {
    this.scheme = scheme;
    this.authority = authority || '';
    this.path = uriPath || '';
    this.query = query || '';
    this.fragment = fragment || '';
  }
  static file(fsPath) {
    return new Uri('file', '', path.resolve(fsPath));
  }
  static parse(value) {
    const url = new URL(value);
    return new Uri(url.protocol.slice(0, -1), url.host, decodeURIComponent(url.pathname), url.search.slice(1), url.hash.slice(1));
  }
  static joinPath(base, ...parts) {
    return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts));
  }
  get fsPath() {
    return this.path;
  }
  with(change) {
    return new Uri(
      change.scheme ?? this.scheme,
      change.authority ?? this.authority,
      change.path ?? this.path,
      change.query ?? this.query,
      change.fragment ?? this.fragment,
    );
  }
  toString() {
    if (this.scheme === 'file') {
      return 'file://' + this.path.split('/').map(encodeURIComponent).join('/');
    }
    return `${this.scheme}://${this.authority}${this.path}`;
  }
  toJSON() {
    return { scheme: this.scheme, path: this.path };
  }
}

class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}
class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
}
class Selection extends Range {
  constructor(anchor, active) {
    super(anchor, active);
    this.anchor = anchor;
    this.active = active;
  }
}
class Diagnostic {
  constructor(range, message, severity) {
    this.range = range;
    this.message = message;
    this.severity = severity;
  }
}
class MarkdownString {
  constructor(value, supportThemeIcons) {
    this.value = value || '';
    this.supportThemeIcons = supportThemeIcons;
  }
  appendMarkdown(text) {
    this.value += text;
    return this;
  }
  appendText(text) {
    this.value += text;
    return this;
  }
}
class CodeActionKind {
  constructor(value) {
    this.value = value;
  }
  append(part) {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other) {
    return this.value === other.value || other.value.startsWith(`${this.value}.`);
  }
  intersects(other) {
    return this.contains(other) || other.contains(this);
  }
}
for (const [name, value] of Object.entries({
  Empty: '',
  QuickFix: 'quickfix',
  Refactor: 'refactor',
  RefactorExtract: 'refactor.extract',
  RefactorInline: 'refactor.inline',
  RefactorRewrite: 'refactor.rewrite',
  Source: 'source',
  SourceOrganizeImports: 'source.organizeImports',
  SourceFixAll: 'source.fixAll',
  Notebook: 'notebook',
})) {
  CodeActionKind[name] = new CodeActionKind(value);
}
class TabInputText {
  constructor(uri) {
    this.uri = uri;
  }
}
class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}
class CancellationTokenSource {
  constructor() {
    const emitter = new EventEmitter();
    this.token = { isCancellationRequested: false, onCancellationRequested: emitter.event };
    this._emitter = emitter;
  }
  cancel() {
    this.token.isCancellationRequested = true;
    this._emitter.fire();
  }
  dispose() {}
}

// Any other class or enum the client touches: a plain class whose unknown
// static members are their own names (enum-like values nobody asserts on).
function genericClass(name) {
  const cls = class {
    constructor(...args) {
      this._args = args;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return new Proxy(cls, {
    get(target, key) {
      if (key in target || typeof key === 'symbol') return target[key];
      return String(key);
    },
  });
}

function createFake() {
  const recorded = {
    messages: [], // { kind: 'error'|'warning'|'info', text, items }
    diagnostics: new Map(), // uri string -> Diagnostic[]
    terminals: [], // { name, sent: [] }
    statusItems: [],
    commands: new Map(),
    executed: [],
    openedDocuments: [],
  };
  // settings: key (without 'ark.') -> { globalValue, workspaceValue }
  const settings = new Map();
  const answers = []; // replies for show*Message, in order; undefined = dismissed
  const configurationChanged = new EventEmitter();
  const openedDocument = new EventEmitter();
  const documents = [];
  let pythonExtension;

  function configuration(section) {
    const full = (key) => (section ? `${section}.${key}` : key);
    return {
      get(key, fallback) {
        const entry = settings.get(full(key));
        const value = entry && (entry.workspaceValue ?? entry.globalValue);
        return value === undefined ? fallback : value;
      },
      has(key) {
        return settings.has(full(key));
      },
      inspect(key) {
        const entry = settings.get(full(key)) || {};
        return { key: full(key), ...entry };
      },
      update() {
        return Promise.resolve();
      },
    };
  }

  const workspace = {
    isTrusted: true,
    workspaceFolders: [],
    textDocuments: documents,
    notebookDocuments: [],
    getConfiguration: (section) => configuration(section),
    getWorkspaceFolder: (uri) =>
      workspace.workspaceFolders.find((folder) => uri.path.startsWith(folder.uri.path + '/')),
    onDidChangeConfiguration: configurationChanged.event,
    onDidGrantWorkspaceTrust: new EventEmitter().event,
    onDidOpenTextDocument: openedDocument.event,
    onDidCloseTextDocument: new EventEmitter().event,
    onDidChangeTextDocument: new EventEmitter().event,
    onDidSaveTextDocument: new EventEmitter().event,
    onWillSaveTextDocument: new EventEmitter().event,
    onDidChangeWorkspaceFolders: new EventEmitter().event,
    onDidOpenNotebookDocument: new EventEmitter().event,
    onDidCloseNotebookDocument: new EventEmitter().event,
    onDidChangeNotebookDocument: new EventEmitter().event,
    onDidSaveNotebookDocument: new EventEmitter().event,
    onDidCreateFiles: new EventEmitter().event,
    onDidRenameFiles: new EventEmitter().event,
    onDidDeleteFiles: new EventEmitter().event,
    onWillCreateFiles: new EventEmitter().event,
    onWillRenameFiles: new EventEmitter().event,
    onWillDeleteFiles: new EventEmitter().event,
    createFileSystemWatcher: () => ({
      onDidCreate: new EventEmitter().event,
      onDidChange: new EventEmitter().event,
      onDidDelete: new EventEmitter().event,
      dispose() {},
    }),
    openTextDocument: async (uri) => {
      recorded.openedDocuments.push(uri.toString());
      return { uri };
    },
    registerTextDocumentContentProvider: () => new Disposable(),
    applyEdit: async () => true,
    saveAll: async () => true,
  };

  function message(kind) {
    return (text, ...items) => {
      recorded.messages.push({ kind, text, items: items.filter((item) => typeof item === 'string') });
      return Promise.resolve(answers.shift());
    };
  }

  function logChannel(name) {
    const lines = [];
    const log = (level) => (text) => lines.push(`[${level}] ${text}`);
    return {
      name,
      lines,
      logLevel: 2,
      onDidChangeLogLevel: new EventEmitter().event,
      trace: log('trace'),
      debug: log('debug'),
      info: log('info'),
      warn: log('warning'),
      error: (value) => lines.push(`[error] ${value instanceof Error ? value.message : value}`),
      append: (text) => lines.push(text),
      appendLine: (text) => lines.push(text),
      replace: () => {},
      clear: () => {},
      show: () => {},
      hide: () => {},
      dispose: () => {},
    };
  }

  const window = {
    activeTextEditor: undefined,
    visibleTextEditors: [],
    // vscode-languageclient pulls diagnostics only for documents shown in tabs.
    tabGroups: { all: [{ tabs: [] }], onDidChangeTabs: new EventEmitter().event },
    onDidChangeActiveTextEditor: new EventEmitter().event,
    onDidChangeVisibleTextEditors: new EventEmitter().event,
    onDidCloseTerminal: new EventEmitter().event,
    showErrorMessage: message('error'),
    showWarningMessage: message('warning'),
    showInformationMessage: message('info'),
    createOutputChannel: (name) => {
      const channel = logChannel(name);
      recorded.channels = recorded.channels || new Map();
      recorded.channels.set(name, channel);
      return channel;
    },
    createStatusBarItem: () => {
      // Every text the item showed, in order, as a user watching it would have seen.
      let text = '';
      const item = {
        texts: [],
        get text() {
          return text;
        },
        set text(value) {
          text = value;
          if (item.texts[item.texts.length - 1] !== value) item.texts.push(value);
        },
        tooltip: undefined,
        show() {},
        hide() {},
        dispose() {},
      };
      recorded.statusItems.push(item);
      return item;
    },
    createTerminal: (options) => {
      const terminal = { name: options.name, sent: [], show() {}, sendText(text) { this.sent.push(text); }, dispose() {} };
      recorded.terminals.push(terminal);
      return terminal;
    },
    withProgress: (_options, task) => task({ report() {} }, new CancellationTokenSource().token),
    showTextDocument: async (document) => document,
  };

  const languages = {
    createDiagnosticCollection: (name) => ({
      name,
      set(uri, diagnostics) {
        if (Array.isArray(uri)) {
          for (const [entryUri, entries] of uri) recorded.diagnostics.set(entryUri.toString(), entries || []);
        } else {
          recorded.diagnostics.set(uri.toString(), diagnostics || []);
        }
      },
      delete(uri) {
        recorded.diagnostics.delete(uri.toString());
      },
      clear() {
        recorded.diagnostics.clear();
      },
      forEach() {},
      get(uri) {
        return recorded.diagnostics.get(uri.toString());
      },
      has(uri) {
        return recorded.diagnostics.has(uri.toString());
      },
      dispose() {},
    }),
    match(selector, document) {
      const filters = Array.isArray(selector) ? selector : [selector];
      return filters.some(
        (filter) =>
          (typeof filter === 'string' && filter === document.languageId) ||
          (typeof filter === 'object' &&
            (!filter.language || filter.language === document.languageId) &&
            (!filter.scheme || filter.scheme === document.uri.scheme)),
      )
        ? 10
        : 0;
    },
  };
  // Every provider registration is accepted and ignored.
  const languagesProxy = new Proxy(languages, {
    get(target, key) {
      if (key in target) return target[key];
      if (typeof key === 'string' && key.startsWith('register')) return () => new Disposable();
      if (typeof key === 'string' && key.startsWith('onDid')) return new EventEmitter().event;
      return undefined;
    },
  });

  const commands = {
    registerCommand(id, handler) {
      if (recorded.commands.has(id)) {
        throw new Error(`command '${id}' already exists`);
      }
      recorded.commands.set(id, handler);
      return new Disposable(() => recorded.commands.delete(id));
    },
    async executeCommand(id, ...args) {
      recorded.executed.push({ id, args });
      const handler = recorded.commands.get(id);
      return handler ? handler(...args) : undefined;
    },
    async getCommands() {
      return [...recorded.commands.keys()];
    },
  };

  const api = {
    Uri,
    Position,
    Range,
    Selection,
    Diagnostic,
    MarkdownString,
    CodeActionKind,
    ThemeColor,
    TabInputText,
    Disposable,
    EventEmitter,
    CancellationTokenSource,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    TextDocumentSaveReason: { Manual: 1, AfterDelay: 2, FocusOut: 3 },
    UIKind: { Desktop: 1, Web: 2 },
    version: '1.100.3',
    workspace,
    window,
    languages: languagesProxy,
    commands,
    extensions: {
      getExtension: (id) => (id === 'ms-python.python' ? pythonExtension : undefined),
      all: [],
      onDidChange: new EventEmitter().event,
    },
    env: {
      appName: 'fake',
      language: 'en',
      machineId: 'test',
      sessionId: 'test',
      uiKind: 1,
      openExternal: async (uri) => {
        recorded.executed.push({ id: 'openExternal', args: [uri.toString()] });
        return true;
      },
    },
    l10n: { t: (text) => text },
  };

  const vscode = new Proxy(api, {
    get(target, key) {
      if (key in target || typeof key === 'symbol') return target[key];
      if (typeof key === 'string' && /^[A-Z]/.test(key)) {
        target[key] = genericClass(key);
        return target[key];
      }
      return undefined;
    },
  });

  /** Test controls: settings, documents, editors, answers to messages. */
  const control = {
    recorded,
    set(key, value, scope = 'workspaceValue') {
      const entry = settings.get(key) || {};
      entry[scope] = value;
      settings.set(key, entry);
    },
    changeSettings(...keys) {
      configurationChanged.fire({
        affectsConfiguration: (section) =>
          keys.some((key) => key === section || key.startsWith(`${section}.`)),
      });
    },
    answerNextMessage(answer) {
      answers.push(answer);
    },
    setPythonExtension(extension) {
      pythonExtension = extension;
    },
    addFolder(folderPath) {
      workspace.workspaceFolders.push({ uri: Uri.file(folderPath), name: path.basename(folderPath), index: 0 });
    },
    openDocument(filePath, text) {
      const uri = Uri.file(filePath);
      const lines = text.split('\n');
      const document = {
        uri,
        fileName: filePath,
        languageId: 'python',
        version: 1,
        isDirty: false,
        isUntitled: false,
        isClosed: false,
        lineCount: lines.length,
        eol: 1,
        getText: () => text,
        save: async () => true,
        lineAt: (line) => ({ text: lines[line] }),
      };
      documents.push(document);
      window.tabGroups.all[0].tabs.push({ input: new TabInputText(uri) });
      openedDocument.fire(document);
      return document;
    },
    focus(document, line, character) {
      const active = new Position(line, character);
      window.activeTextEditor = { document, selection: new Selection(active, active) };
    },
  };
  return { vscode, control };
}

module.exports = { createFake };
