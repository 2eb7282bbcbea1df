// Opens an apical output file in h5web (the page built from main.jsx into
// dist/) in headless Chromium and checks, from the page's DOM, what a user
// sees first (issue 13; docs/output-format.md, "Viewing with h5web"):
//   1. the root `default` opens as a line plot (the "NX Line" tab selected)
//      whose abscissa is time in ms and ordinate a rate in Hz;
//   2. a membrane-potential trace under /overview (<report>_V_m) opens as a
//      line plot with a time axis in ms and a value axis in mV;
//   3. the raster preview under /overview opens as a heat map over time (ms);
// and that no console error or warning mentions a texture or WebGL (h5web
// draws with WebGL: an image beyond the texture size limit logs one).
// Screenshots of each view go to --out. Exit 0 passes; on failure the last
// line is "FAIL: <reason>".
//
//   node run.mjs --file run.h5 [--out ../../results/browser] [--chromium /usr/bin/chromium]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { out: path.join(here, '..', '..', 'results', 'browser'), chromium: '/usr/bin/chromium' };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!opt.file) {
  console.log('usage: node run.mjs --file FILE.h5 [--out DIR] [--chromium PATH]');
  process.exit(2);
}
const STEP_MS = 30000;

class Fail extends Error {}
function expect(cond, msg) {
  if (!cond) throw new Fail(msg);
}

// The built page and the file, from one origin (127.0.0.1, a free port).
const dist = path.join(here, 'dist');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
  const p = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  const f = p === '/run.h5' ? path.resolve(opt.file) : path.join(dist, p === '/' ? 'index.html' : path.normalize(p));
  if (p !== '/run.h5' && !f.startsWith(dist + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  fs.readFile(f, (err, body) => {
    if (err) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(f)] || 'application/octet-stream' }).end(body);
  });
});

const consoleLines = [];
let browser;

// What h5web shows now: selected vis tab, axis labels, figure title.
async function view(page) {
  return page.evaluate(() => {
    const tab = document.querySelector('[role=tablist][aria-label=Visualization] [role=tab][aria-selected=true]');
    const fig = document.querySelector('figure');
    const labels = [...document.querySelectorAll('figure text.visx-axis-label')];
    const isOrdinate = (t) => /rotate/.test(t.getAttribute('transform') || '');
    return {
      vis: tab ? tab.textContent.trim() : null,
      figure: fig ? fig.getAttribute('aria-label') : null,
      title: fig?.querySelector('p')?.textContent ?? null,
      abscissa: labels.filter((t) => !isOrdinate(t)).map((t) => t.textContent.trim()).join(' | '),
      ordinate: labels.filter(isOrdinate).map((t) => t.textContent.trim()).join(' | '),
      canvas: !!(fig && fig.querySelector('canvas')),
      loadError: document.querySelector('#load-error')?.textContent ?? null,
    };
  });
}

// Wait until h5web has drawn a new figure (its aria-label, the plot title,
// differs from `previous`) with both axis labels and its WebGL canvas.
async function waitFigure(page, previous, what) {
  try {
    await page.waitForFunction(
      (prev) => {
        const fig = document.querySelector('figure');
        return (
          fig &&
          fig.getAttribute('aria-label') !== prev &&
          fig.querySelector('canvas') &&
          fig.querySelectorAll('text.visx-axis-label').length >= 2
        );
      },
      previous,
      { timeout: STEP_MS },
    );
  } catch {
    noTextureErrors(what);
    const v = await view(page);
    throw new Fail(`${what}: no plot with labelled axes within ${STEP_MS / 1000} s (page shows ${JSON.stringify(v)})`);
  }
  await page.waitForTimeout(800); // let the canvas draw before the screenshot
  noTextureErrors(what);
  return view(page);
}

async function shot(page, name) {
  const f = path.join(opt.out, name);
  await page.screenshot({ path: f });
  console.log(`  screenshot ${path.relative(process.cwd(), f)}`);
}

// Chromium logs WebGL errors (a texture beyond the size limit, ...) as
// console warnings, three.js and h5web as errors.
function noTextureErrors(what) {
  const bad = consoleLines.filter((l) => /^(error|warning)\b/.test(l) && /texture|webgl|GL_/i.test(l));
  expect(bad.length === 0, `${what}: console: ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`);
}

async function main() {
  expect(fs.existsSync(path.join(dist, 'index.html')), `${dist}/index.html missing: run "npx vite build" first`);
  expect(fs.existsSync(opt.file), `${opt.file}: no such file`);
  fs.mkdirSync(opt.out, { recursive: true });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/?file=run.h5`;

  // SwiftShader: software WebGL, so the test needs no GPU.
  browser = await chromium.launch({
    executablePath: opt.chromium,
    headless: true,
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => consoleLines.push(`${m.type()} ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`error (page) ${e.message}`));
  await page.goto(url);

  const gl = await page.evaluate(() => !!document.createElement('canvas').getContext('webgl2'));
  expect(gl, 'Chromium has no WebGL 2 context (SwiftShader missing?): h5web cannot draw');

  // 1. The first view: the root `default`.
  let v = await waitFigure(page, null, 'default view');
  console.log(`  default view: ${JSON.stringify(v)}`);
  await shot(page, '1-default.png');
  expect(v.vis === 'NX Line', `default view is "${v.vis}", not a line plot (NX Line)`);
  expect(/\btime\b/i.test(v.abscissa) && /\bms\b/.test(v.abscissa), `default view's abscissa is "${v.abscissa}", not time in ms`);
  expect(/\bHz\b/.test(v.ordinate), `default view's ordinate is "${v.ordinate}", not a rate in Hz`);

  // 2. A V trace under /overview, found in h5web's explorer.
  const ov = page.locator('[role=treeitem][data-path="/overview"]');
  expect((await ov.count()) === 1, 'no /overview in the explorer');
  if ((await ov.getAttribute('aria-expanded')) !== 'true') await ov.click();
  const traces = page.locator('[role=treeitem][data-path^="/overview/"][data-path$="_V_m"]');
  await traces.first().waitFor({ timeout: STEP_MS }).catch(() => {});
  expect((await traces.count()) > 0, 'no /overview/<report>_V_m in the explorer');
  const tracePath = await traces.first().getAttribute('data-path');
  await traces.first().click();
  v = await waitFigure(page, v.figure, tracePath);
  console.log(`  ${tracePath}: ${JSON.stringify(v)}`);
  await shot(page, '2-v-trace.png');
  expect(v.vis === 'NX Line', `${tracePath} opens as "${v.vis}", not a trace (NX Line)`);
  expect(/\btime\b/i.test(v.abscissa) && /\bms\b/.test(v.abscissa), `${tracePath}: abscissa "${v.abscissa}", not time in ms`);
  expect(/\bmV\b/.test(v.ordinate), `${tracePath}: ordinate "${v.ordinate}", not in mV`);

  // 3. The raster preview: an image, within WebGL's texture limits.
  const raster = page.locator('[role=treeitem][data-path="/overview/raster"]');
  expect((await raster.count()) === 1, 'no /overview/raster in the explorer');
  await raster.click();
  v = await waitFigure(page, v.figure, '/overview/raster');
  console.log(`  /overview/raster: ${JSON.stringify(v)}`);
  await shot(page, '3-raster.png');
  expect(v.vis === 'NX Heatmap', `/overview/raster opens as "${v.vis}", not a heat map`);
  expect(/\bms\b/.test(v.abscissa), `/overview/raster: abscissa "${v.abscissa}", not time in ms`);

  const errors = consoleLines.filter((l) => /^error\b/.test(l));
  expect(errors.length === 0, `console: ${errors[0]}`);
}

let rc = 0;
try {
  await main();
  console.log('PASS h5web in Chromium: default view a line plot over time (ms), V trace over time (ms), raster a heat map, no WebGL errors');
} catch (e) {
  if (consoleLines.length) console.log(`  console:\n    ${consoleLines.join('\n    ')}`);
  console.log(`FAIL: ${e instanceof Fail ? e.message : e.stack || e}`);
  rc = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  server.close();
}
process.exit(rc);
