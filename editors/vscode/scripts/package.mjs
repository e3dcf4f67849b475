// `npm run package`: dist/ark.vsix for this machine's platform, carrying the ARK server.
//
// 1. bundled/libs: ARK's wheel and its dependencies, installed with `pip install --target`
//    (as Microsoft's vscode-python-tools-extension-template fills its bundled/libs), so the
//    extension needs only a Python 3.11+ interpreter, which it puts the folder in front of.
//    The wheel is $ARK_WHEEL, else built from this clone (`pip wheel`); the gate's tools
//    (GATE_TOOLS) stay out. Everything is pure
//    Python but google-re2, whose wheels are per CPython release and platform: its module is
//    added for each of RE2_PYTHONS on this platform, and the .vsix is marked for this
//    platform (`vsce package --target`). pip, run by $ARK_PYTHON (default python3), reads
//    its usual settings: PIP_NO_INDEX=1 PIP_FIND_LINKS=<scripts/wheelhouse> packages offline.
// 2. vsce package (its vscode:prepublish step bundles the TypeScript with esbuild), and
//    vsce's secret scan of the extension's own files.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CPython releases whose google-re2 module the .vsix carries; as in scripts/wheelhouse. */
const RE2_PYTHONS = ['3.11', '3.12', '3.13', '3.14'];
/** Declared by sqlite-utils for its own `install` command, which ARK never runs. */
const LEFT_OUT = ['bin', 'pip'];
/**
 * The quality gate's tools, left out of the bundle: large, and mypy is compiled for one
 * CPython release. The gate runs them with the interpreter the extension uses; where it
 * lacks them the type and lint checks are reported "not run" (never passed), and coverage
 * is the sandbox's own.
 */
const GATE_TOOLS = ['mypy', 'pylint', 'coverage'];

/** The wheel's own requirements (no extras), as pip reads them from its METADATA. */
const REQUIREMENTS_OF_WHEEL = `
import sys, zipfile
from email.parser import Parser
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
for requirement in metadata.get_all("Requires-Dist") or []:
    if "extra ==" not in requirement:
        print(requirement)
`;

function projectName(requirement) {
  return requirement.match(/^[A-Za-z0-9._-]+/)[0].toLowerCase().replace(/[._]/g, '-');
}

const extension = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(extension, '..', '..');
const bundled = path.join(extension, 'bundled');
const libs = path.join(bundled, 'libs');
const python = process.env.ARK_PYTHON || (process.platform === 'win32' ? 'python' : 'python3');

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const done = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
  if (done.error) {
    fail(`${command} could not run: ${done.error.message}`);
  }
  if (done.status !== 0) {
    fail(`${command} ${args.join(' ')} exited ${done.status}`);
  }
  return done.stdout;
}

/** VS Code's name for this platform (`vsce package --target`). */
function vscodeTarget() {
  const arch = { x64: 'x64', arm64: 'arm64', arm: 'armhf' }[process.arch];
  if (!arch || !['linux', 'darwin', 'win32'].includes(process.platform)) {
    fail(`no VS Code target for ${process.platform}-${process.arch}`);
  }
  const musl = process.platform === 'linux' && !process.report?.getReport().header.glibcVersionRuntime;
  return `${musl ? 'alpine' : process.platform}-${arch}`;
}

const version = run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).trim();
if (Number(version.split('.')[1]) < 11 || version.split('.')[0] !== '3') {
  fail(`${python} is Python ${version}; packaging needs Python 3.11 or newer (set ARK_PYTHON)`);
}
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ark-package-'));
try {
  let wheel = process.env.ARK_WHEEL;
  if (!wheel) {
    if (!fs.existsSync(path.join(repo, 'pyproject.toml'))) {
      fail(`no ARK clone at ${repo}: set ARK_WHEEL to a built ark_lsp wheel`);
    }
    console.error(`package: building ARK's wheel from ${repo}`);
    run(python, ['-m', 'pip', 'wheel', '--quiet', '--no-deps', '--wheel-dir', scratch, repo]);
    wheel = path.join(scratch, fs.readdirSync(scratch).find((name) => /^ark_lsp-.*\.whl$/.test(name)));
  }
  fs.rmSync(bundled, { recursive: true, force: true });
  console.error(`package: installing ${path.basename(wheel)} and its dependencies into bundled/libs`);
  const requirements = run(python, ['-c', REQUIREMENTS_OF_WHEEL, wheel])
    .split('\n')
    .filter((line) => line.trim() && !GATE_TOOLS.includes(projectName(line)));
  run(python, ['-m', 'pip', 'install', '--quiet', '--no-compile', '--target', libs, ...requirements]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--no-compile', '--no-deps', '--target', libs, wheel]);
  for (const name of fs.readdirSync(libs)) {
    if (LEFT_OUT.includes(name) || LEFT_OUT.some((left) => name.startsWith(`${left}-`) && name.endsWith('.dist-info'))) {
      fs.rmSync(path.join(libs, name), { recursive: true, force: true });
    }
  }

  const re2Info = fs.readdirSync(libs).find((name) => /^google_re2-.*\.dist-info$/.test(name));
  if (!re2Info) {
    fail('google-re2 is not among the installed dependencies');
  }
  const re2Version = re2Info.replace(/^google_re2-/, '').replace(/\.dist-info$/, '');
  for (const release of RE2_PYTHONS) {
    const target = path.join(scratch, `re2-${release}`);
    run(python, [
      '-m', 'pip', 'install', '--quiet', '--no-deps', '--no-compile', '--only-binary=:all:',
      '--python-version', release, '--target', target, `google-re2==${re2Version}`,
    ]);
    for (const name of fs.readdirSync(path.join(target, 're2'))) {
      if (name.startsWith('_re2.')) {
        fs.copyFileSync(path.join(target, 're2', name), path.join(libs, 're2', name));
      }
    }
  }
  const target = vscodeTarget();
  const ark = fs.readdirSync(libs).find((name) => /^ark_lsp-.*\.dist-info$/.test(name));
  // What the extension tells a user whose Python the bundle cannot serve.
  fs.writeFileSync(
    path.join(bundled, 'bundle.json'),
    `${JSON.stringify({ ark: ark.replace(/^ark_lsp-|\.dist-info$/g, ''), target, re2Pythons: RE2_PYTHONS }, null, 2)}\n`,
  );
  console.error(`package: bundled the server for ${target}, RE2 for CPython ${RE2_PYTHONS.join(', ')}`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

// vsce scans what it packages for secrets, but its scanner (secretlint's profiler) takes time
// quadratic in the number of files: hours for the ~7,500 files of bundled/libs. As vsce never
// scans node_modules, third-party code is left out here too: vsce packages without scanning,
// then its scanner runs over the extension's own files, and a finding discards the .vsix.
const vsceFolder = path.join(extension, 'node_modules', '@vscode', 'vsce');
const vsce = path.join(vsceFolder, 'vsce');
const packaged = spawnSync(
  process.execPath,
  [
    vsce, 'package', '--no-dependencies', '--allow-missing-repository',
    '--allow-package-all-secrets', '--allow-package-env-file',
    '--target', vscodeTarget(), '--out', 'dist/ark.vsix',
  ],
  { cwd: extension, stdio: 'inherit' },
);
if (packaged.status !== 0) {
  process.exit(packaged.status ?? 1);
}
const own = run(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: extension })
  .split('\n')
  .map((line) => line.trim())
  .filter((name) => name && !name.startsWith('bundled/libs/') && fs.existsSync(path.join(extension, name)))
  .filter((name) => !/\.(jpg|jpeg|png|gif|svg)$/i.test(name));
const { lintFiles, prettyPrintLintResult } = createRequire(import.meta.url)(path.join(vsceFolder, 'out', 'secretLint.js'));
const scanned = await lintFiles(own.map((name) => path.join(extension, name)), true, true);
if (!scanned.ok) {
  fs.rmSync(path.join(extension, 'dist', 'ark.vsix'), { force: true });
  console.error(scanned.results.map(prettyPrintLintResult).join('\n'));
  fail(`secrets or a .env file among the extension's own files (${own.join(', ')}): dist/ark.vsix removed`);
}
console.error(`package: no secrets in the extension's own files (${own.join(', ')})`);
