// The share PIN page in a real browser (Debian's Chromium, phone-sized viewport): open
// the link with its #key, type a wrong PIN, then the right one, and read the patient's
// name from the decrypted card; the same for a SMART Health Link's viewer URL
// ({public}/v#shlink:/...). Needs SHCX_BIN (the shcx binary) and /usr/bin/chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const shcx = process.env.SHCX_BIN;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const card = join(repo, 'testdata/cards/covid-three-doses.smart-health-card');
const work = mkdtempSync(join(tmpdir(), 'shcx-browser-'));
let server, base, token, browser;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function createShare(extra = []) {
  const out = execFileSync(shcx, ['share', 'create', card, '--server', base, '--token', token, '--json', ...extra]);
  return JSON.parse(out.toString());
}

async function phonePage() {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/40[134]/.test(m.text())) problems.push(m.text()); });
  return { page, problems };
}

before(async () => {
  assert.ok(shcx && existsSync(shcx), 'SHCX_BIN must point at the shcx binary');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const db = join(work, 'shares.db');
  const ready = join(work, 'ready');
  server = spawn(shcx, ['share', 'serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--public-url', base,
    '--ready-file', ready, '--kdf-memory', '1024', '--kdf-passes', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 2400 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));  // up to 60 s
  assert.ok(existsSync(ready), 'share server did not start');
  token = execFileSync(shcx, ['share', 'user', 'add', 'browser', '--db', db], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().trim();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

test('right PIN after a wrong one shows the patient name and a download', async () => {
  const share = await createShare();
  const { page, problems } = await phonePage();
  await page.goto(share.url);
  // The key is read and removed from the address bar.
  assert.equal(new URL(page.url()).hash, '');
  await page.fill('#pin', share.challenge === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA');
  await page.click('#open');
  await page.waitForSelector('#message.error');
  assert.match(await page.textContent('#message'), /Wrong PIN/);
  await page.fill('#pin', share.challenge.toLowerCase());  // case does not matter
  await page.click('#open');
  await page.waitForSelector('.person-name');
  assert.equal(await page.textContent('.person-name'), 'Adaeze N. Okafor');
  assert.match(await page.textContent('#result'), /Born 1984-03-12/);
  assert.match(await page.textContent('#result'), /2021-04-02 — Pfizer-BioNTech COVID-19, lot EW0182/);
  const download = await page.getAttribute('#download', 'download');
  assert.equal(download, 'health-card.smart-health-card');
  assert.deepEqual(problems, []);
});

test('each wrong PIN says how many tries are left, the last but one warns, the last says the link is destroyed', async () => {
  const share = await createShare();
  const { page, problems } = await phonePage();
  await page.goto(share.url);
  const wrong = share.challenge === 'WR0NG000' ? 'WR0NG001' : 'WR0NG000';
  const expected = [/Wrong PIN\. 4 tries left\./, /Wrong PIN\. 3 tries left\./, /Wrong PIN\. 2 tries left\./,
    /Wrong PIN\. One try left: another wrong PIN destroys this link for good\./];
  for (const text of expected) {
    await page.fill('#pin', wrong);
    await page.click('#open');
    await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('message').textContent), text.source);
    await page.waitForSelector('#open:not([disabled])');
  }
  assert.equal(await page.getAttribute('#message', 'class'), 'error warning');
  await page.fill('#pin', wrong);
  await page.click('#open');
  await page.waitForFunction(() => /destroyed/.test(document.getElementById('message').textContent));
  assert.match(await page.textContent('#message'), /That was the last try: this link is now destroyed\./);
  assert.equal(await page.isVisible('#pin'), false);
  // A U is never part of a PIN: refused on the page, nothing sent.
  const other = await createShare();
  const second = await phonePage();
  await second.page.goto(other.url);
  await second.page.fill('#pin', 'ABCD-123U');
  await second.page.click('#open');
  assert.match(await second.page.textContent('#message'), /8 characters: digits and letters \(there is no U\)/);
  assert.deepEqual(problems, []);
  assert.deepEqual(second.problems, []);
});

test('a PIN read aloud opens the link: lower case, a dash, O for 0, I or L for 1', async () => {
  const share = await createShare();
  const spoken = (share.challenge.slice(0, 4) + '-' + share.challenge.slice(4)).toLowerCase()
    .replace(/0/g, 'o').replace(/1/g, 'l');
  const { page, problems } = await phonePage();
  await page.goto(share.url);
  await page.fill('#pin', spoken);
  await page.click('#open');
  await page.waitForSelector('.person-name');
  assert.equal(await page.textContent('.person-name'), 'Adaeze N. Okafor');
  assert.deepEqual(problems, []);
});

test('a used link shows the dead-link page; a link without its key says so', async () => {
  const share = await createShare();
  const reveal = await fetch(share.url.split('#')[0], {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ challenge: share.challenge }),
  });
  assert.equal(reveal.status, 200);
  const { page } = await phonePage();
  const res = await page.goto(share.url);
  assert.equal(res.status(), 404);
  assert.match(await page.textContent('h1'), /This link is not valid/);

  const fresh = await createShare();
  const second = await phonePage();
  await second.page.goto(fresh.url.split('#')[0]);
  assert.match(await second.page.textContent('#message'), /This link is incomplete/);
  assert.equal(await second.page.isVisible('#pin'), false);
});

test('an SHL viewer URL: a wrong PIN shows the tries left, the right one the decrypted card; a second open finds nothing', async () => {
  const share = await createShare(['--shl', '--label', 'Vaccinations']);
  assert.match(share.url, /\/v#shlink:\//);
  const { page, problems } = await phonePage();
  await page.goto(share.url);
  assert.equal(new URL(page.url()).hash, '');  // the link (and its key) left the address bar
  assert.match(await page.textContent('#intro'), /\u201cVaccinations\u201d/);
  const wrong = share.challenge === 'WRONG000' ? 'WRONG001' : 'WRONG000';
  await page.fill('#pin', wrong);
  await page.click('#open');
  await page.waitForSelector('#message.error');
  assert.match(await page.textContent('#message'), /Wrong PIN\. 4 tries left\./);
  await page.waitForSelector('#open:not([disabled])');
  await page.fill('#pin', share.challenge);
  await page.click('#open');
  await page.waitForSelector('.person-name');
  assert.equal(await page.textContent('.person-name'), 'Adaeze N. Okafor');
  assert.match(await page.textContent('#result'), /Born 1984-03-12/);
  assert.match(await page.textContent('#result'), /2021-04-02 — Pfizer-BioNTech COVID-19, lot EW0182/);
  assert.equal(await page.getAttribute('#download', 'download'), 'health-card.smart-health-card');
  assert.deepEqual(problems, []);
  // Used up: the same link again says so once the PIN is sent.
  const second = await phonePage();
  await second.page.goto(share.url);
  await second.page.fill('#pin', share.challenge);
  await second.page.click('#open');
  await second.page.waitForSelector('#message.error');
  assert.match(await second.page.textContent('#message'), /no longer valid/);
  assert.deepEqual(second.problems, []);
  // The viewer without a link, and a link to another server, are refused on the page.
  const bare = await phonePage();
  await bare.page.goto(`${base}/v`);
  assert.match(await bare.page.textContent('#message'), /This link is incomplete/);
  assert.equal(await bare.page.isVisible('#pin'), false);
  const payload = JSON.parse(Buffer.from(share.shlink.slice(8), 'base64url').toString());
  payload.url = 'https://elsewhere.example/m/AAAAAAAAAAAAAAAAAAAAAA';
  const foreign = await phonePage();
  await foreign.page.goto(`${base}/v#shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`);
  assert.match(await foreign.page.textContent('#message'), /belongs to another server/);
  assert.equal(await foreign.page.isVisible('#pin'), false);
});
