// Drives a running code-server (VS Code 1.100 in the browser, with the ARK
// .vsix installed) through headless Chromium the way a user would: open a
// Python file, look at the squiggle and the Problems panel, hover, take the
// quick fix. It records what the workbench showed in a JSON report, with a
// screenshot per step; tests/editors/test_vscode.py asserts on the report.
//
//   node drive.mjs --url URL --file app/loader.py --text-file PATH --out DIR [--steps a,b]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    file: { type: 'string' },
    'text-file': { type: 'string' },
    out: { type: 'string' },
    steps: { type: 'string', default: 'open,squiggle,problems,hover,quickfix,reindex,generate' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
const steps = new Set(options.steps.split(','));
const text = fs.readFileSync(options['text-file'], 'utf8');
fs.mkdirSync(options.out, { recursive: true });
const report = { steps: {}, screenshots: [] };

// Flags that work on these machines (no GPU, no network but loopback, root).
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

const browser = await chromium.launch({ executablePath: options.chromium, headless: true, args: CHROMIUM_FLAGS });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
let shot = 0;

async function screenshot(name) {
  shot += 1;
  const file = path.join(options.out, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  report.screenshots.push(file);
  return file;
}

/** Run one step; its result or its error goes in the report, with a screenshot. */
async function step(name, fn) {
  if (!steps.has(name)) {
    return;
  }
  const started = Date.now();
  try {
    report.steps[name] = { ok: true, ...(await fn()) };
  } catch (error) {
    report.steps[name] = { ok: false, error: String(error && error.stack ? error.stack : error) };
  }
  report.steps[name].seconds = (Date.now() - started) / 1000;
  report.steps[name].screenshot = await screenshot(name).catch(() => undefined);
}

const editor = () => page.locator('.editor-instance .monaco-editor').first();

async function command(keys, input) {
  await page.keyboard.press(keys);
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible' });
  await box.fill(input);
}

/** Put the cursor at a 1-based line and UTF-16 column, as VS Code counts them. */
async function goTo(line, column) {
  await page.keyboard.press('Control+1'); // focus the editor group, wherever focus was
  await command('Control+g', `:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

function position(needle) {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.includes(needle));
  return { line: index + 1, column: lines[index].indexOf(needle) + 1 };
}

const statusText = async () =>
  page
    .locator('.statusbar-item', { hasText: 'ARK' })
    .first()
    .innerText({ timeout: 1000 })
    .catch(() => null);

await step('open', async () => {
  await page.goto(options.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  // Quick Open, as a user opens a file.
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 });
  await command('Control+p', options.file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(options.file) }).first().waitFor();
  await page.keyboard.press('Enter');
  await editor().locator('.view-lines', { hasText: 'def load' }).waitFor();
  return { title: await page.title() };
});

await step('squiggle', async () => {
  // The extension activates on Python, checks the interpreter, starts the server.
  await editor().locator('.squiggly-error').first().waitFor({ timeout: 120_000 });
  // The first index is done when the item's label (what a screen reader reads) says so.
  await page.locator('[aria-label*="index: workspace ready"]').first().waitFor({ timeout: 60_000 });
  await page.locator('.statusbar-item', { hasText: 'sandbox:' }).first().waitFor({ timeout: 30_000 });
  return { errors: await editor().locator('.squiggly-error').count(), status: await statusText() };
});

await step('problems', async () => {
  await page.keyboard.press('Control+Shift+M');
  const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'ARK001' }).first();
  await row.waitFor({ timeout: 30_000 });
  const rows = await page.locator('.markers-panel .monaco-list-row').allInnerTexts();
  return { rows: rows.map((row) => row.replace(/\s+/g, ' ').trim()) };
});

async function hoverAt(needle) {
  const where = position(needle);
  await goTo(where.line, where.column);
  await page.keyboard.press('Control+k');
  await page.keyboard.press('Control+i');
  const hover = page.locator('.monaco-hover:not(.hidden)').first();
  await hover.waitFor({ state: 'visible', timeout: 8_000 });
  // The hover fills in as providers answer: read it once it stops changing and
  // VS Code has finished looking for quick fixes.
  let text = '';
  for (let settled = 0, waited = 0; settled < 3 && waited < 100; waited += 1) {
    await page.waitForTimeout(100);
    const now = (await hover.innerText()).trim();
    settled = now === text && !now.includes('Checking for quick fixes') ? settled + 1 : 0;
    text = now;
  }
  return text;
}

await step('hover', async () => {
  const onFunction = await hoverAt('load(').catch((error) => `no hover: ${error.message.split('\n')[0]}`);
  // ARK's hover over the squiggled file with the Problems panel open: the README's screenshot.
  const readme = path.join(options.out, 'readme.png');
  await page.screenshot({ path: readme });
  await page.keyboard.press('Escape');
  const onEval = await hoverAt('eval(');
  await page.keyboard.press('Escape');
  return { onFunction, onEval, readme };
});

await step('quickfix', async () => {
  const where = position('eval(');
  await goTo(where.line, where.column);
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget');
  await menu.waitFor({ state: 'visible', timeout: 15_000 });
  const offered = (await menu.locator('.action-list-item, .monaco-list-row').allInnerTexts()).map((item) =>
    item.replace(/\s+/g, ' ').trim(),
  );
  await screenshot('quickfix-menu');
  // Choose with the keyboard: the menu's overlay swallows synthetic clicks.
  const focused = menu.locator('.monaco-list-row.focused');
  for (let tries = 0; tries < 5; tries += 1) {
    if ((await focused.getAttribute('aria-label'))?.includes('ast.literal_eval')) {
      break;
    }
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Enter');
  await editor().locator('.view-lines', { hasText: 'ast.literal_eval(' }).waitFor({ timeout: 15_000 });
  // The server re-checks the edited text: the squiggle and the Problems entry go.
  await editor().locator('.squiggly-error').first().waitFor({ state: 'detached', timeout: 30_000 });
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'ARK001' }).first().waitFor({ state: 'detached', timeout: 30_000 });
  const lines = await editor().locator('.view-lines').innerText();
  return {
    offered,
    lines: lines.split('\n').map((line) => line.replace(/\u00a0/g, ' ')),
    errors: await editor().locator('.squiggly-error').count(),
    problems: (await page.locator('.markers-panel').innerText()).replace(/\s+/g, ' ').trim(),
  };
});

await step('reindex', async () => {
  // From the command palette, as a user runs any ARK command.
  await page.keyboard.press('Control+1');
  await command('F1', '>ARK: Re-index Workspace');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ARK: Re-index Workspace' }).first().waitFor();
  await page.keyboard.press('Enter');
  const toast = page.locator('.notification-toast', { hasText: 're-indexed' }).first();
  await toast.waitFor({ timeout: 60_000 });
  return { notification: (await toast.innerText()).replace(/\s+/g, ' ').trim() };
});

await step('generate', async () => {
  // On the function's name, found as a user finds it (the quick fix above moved
  // the lines), then from the palette: the tests are written, run, and opened.
  await page.keyboard.press('Control+1');
  await page.keyboard.press('Control+f');
  const find = page.locator('.find-widget textarea, .find-widget input').first();
  await find.waitFor({ state: 'visible' });
  await find.fill('load(text');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape'); // the match stays selected, the cursor on the name
  await command('F1', '>ARK: Generate Tests');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ARK: Generate Tests' }).first().waitFor();
  await page.keyboard.press('Enter');
  const tab = page.locator('.tab', { hasText: 'test_loader.py' }).first();
  await tab.waitFor({ timeout: 180_000 });
  await editor().locator('.view-lines', { hasText: 'from app.loader import load' }).waitFor({ timeout: 30_000 });
  const toast = page.locator('.notification-toast', { hasText: 'pass in the sandbox' }).first();
  await toast.waitFor({ timeout: 30_000 });
  const lines = await editor().locator('.view-lines').innerText();
  return {
    tab: (await tab.innerText()).trim(),
    lines: lines.split('\n').map((line) => line.replace(/\u00a0/g, ' ')),
    notification: (await toast.innerText()).replace(/\s+/g, ' ').trim(),
  };
});

report.status = await statusText();
await browser.close();
fs.writeFileSync(path.join(options.out, 'report.json'), JSON.stringify(report, null, 2));
