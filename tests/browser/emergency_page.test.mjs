// The emergency page in a real browser (Debian's Chromium, phone-sized viewport),
// against a real `shcx share serve`: the emergency tier shows at once without a PIN; the
// full record opens with the PIN (after a wrong one, which says how many tries are left)
// or by break glass, which the owner's `share status --json` lists with the attestation
// and the browser's User-Agent; rate limits and dead links say so. Each page gets its own
// client address (X-Forwarded-For from a trusted 127.0.0.1), so that the per-address
// limits of one test do not spill into another. Needs SHCX_BIN and /usr/bin/chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const shcx = process.env.SHCX_BIN;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const summary = join(repo, 'testdata/bundles/emergency-summary.json');
const card = join(repo, 'testdata/cards/covid-three-doses.smart-health-card');
const work = mkdtempSync(join(tmpdir(), 'shcx-emergency-'));
const db = join(work, 'shares.db');
let server, base, browser, nextAddress = 1;

const DEAD = 'This link is no longer valid: it was revoked, replaced by a new one, or has expired. ' +
  'The patient\'s wristband or card no longer opens anything.';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function shcxJson(args) {
  return JSON.parse(execFileSync(shcx, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 }).toString());
}
function createEmergency() {
  return shcxJson(['share', 'create', '--db', db, '--public-url', base, '--emergency', summary, '--full', card,
    '--label', 'Wristband', '--json']);
}
function status(id) {
  return shcxJson(['share', 'status', id, '--db', db, '--json']);
}

async function phonePage() {
  const address = `203.0.113.${nextAddress++}`;
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    extraHTTPHeaders: { 'X-Forwarded-For': address },
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  // Chromium reports every refused fetch (400, 403, 404, 429) on the console; anything else is a problem.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (400|403|404|429)/.test(m.text())) problems.push(m.text()); });
  return { page, problems, address };
}

// A fresh load of the link: going from the page to its own address plus a fragment would
// only move to the fragment, without loading (or reading) anything.
async function open(page, url) {
  await page.goto('about:blank');
  return page.goto(url);
}

async function items(page, scope, topic) {
  return page.$$eval(`${scope} ul[data-topic="${topic}"] li`, (lis) => lis.map((li) => li.textContent));
}

async function essentialsShown(page) {
  await page.waitForSelector('#essentials:not([hidden]) .person-name');
  assert.equal(await page.textContent('#essentials .person-name'), 'Adaeze N. Okafor');
  assert.deepEqual(await items(page, '#essentials', 'allergies'),
    ['Penicillin — high risk — reaction: anaphylaxis', 'Peanuts — reaction: hives']);
  assert.deepEqual(await items(page, '#essentials', 'conditions'), ['Type 1 diabetes mellitus, since 1996', 'Epilepsy']);
  assert.deepEqual(await items(page, '#essentials', 'medications'),
    ['Insulin glargine — 20 units at night', 'Levetiracetam 500 mg — twice a day']);
  assert.deepEqual(await items(page, '#essentials', 'blood-type'), ['O negative']);
  assert.deepEqual(await items(page, '#essentials', 'contacts'), ['Chidi Okafor (brother): +44 20 7946 0958']);
}

async function fullRecordShown(page, how) {
  await page.waitForSelector('#record:not([hidden]) .person-name');
  assert.equal(await page.textContent('#record .person-name'), 'Adaeze N. Okafor');
  assert.equal(await page.textContent('#record > p.note'), how);
  assert.deepEqual(await items(page, '#record', 'other'), [
    '2021-04-02 — Pfizer-BioNTech COVID-19, lot EW0182', '2021-04-23 — Pfizer-BioNTech COVID-19, lot EW0199',
    '2022-10-14 — Pfizer-BioNTech COVID-19 bivalent, lot GH9715']);
  assert.equal(await page.getAttribute('#download', 'download'), 'health-card.smart-health-card');
  assert.equal(await page.isVisible('#pin-form'), false);
  assert.equal(await page.isVisible('#glass-form'), false);
}

// The per-minute limits count in calendar minutes: start a sequence that must stay in one
// minute with at least 30 s of it left.
async function freshMinute() {
  const s = new Date().getSeconds();
  if (s > 30) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
}

before(async () => {
  assert.ok(shcx && existsSync(shcx), 'SHCX_BIN must point at the shcx binary');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const ready = join(work, 'ready');
  server = spawn(shcx, ['share', 'serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--public-url', base,
    '--ready-file', ready, '--kdf-memory', '1024', '--kdf-passes', '1', '--trusted-proxy', '127.0.0.1'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 2400 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));  // up to 60 s
  assert.ok(existsSync(ready), 'share server did not start');
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

test('the emergency tier shows at once, without a PIN; the full record is not on the page', async () => {
  const share = createEmergency();
  assert.match(share.url, /\/e\/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
  const { page, problems, address } = await phonePage();
  await page.goto(share.url);
  await essentialsShown(page);
  assert.equal(new URL(page.url()).hash, '');  // the keys left the address bar
  assert.equal(await page.textContent('#message'), '');
  assert.equal(await page.isVisible('#pin-form'), true);
  assert.equal(await page.isVisible('#glass-form'), true);
  assert.equal(await page.isVisible('#record'), false);
  assert.equal(await page.isVisible('#retry'), false);
  assert.doesNotMatch(await page.textContent('body'), /Pfizer/);
  const ua = await page.evaluate(() => navigator.userAgent);
  const accesses = status(share.id).emergency.accesses;
  assert.deepEqual(accesses.map((a) => [a.tier, a.via, a.attestation, a.address, a.user_agent]),
    [['emergency', 'link', '', address, ua]]);
  assert.deepEqual(problems, []);
});

test('path 1: a wrong PIN says how many tries are left, the right PIN shows the full record', async () => {
  const share = createEmergency();
  const { page, problems, address } = await phonePage();
  await page.goto(share.url);
  await essentialsShown(page);
  await page.fill('#pin', share.challenge === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA');
  await page.click('#open-pin');
  await page.waitForFunction(() => /Wrong PIN/.test(document.getElementById('pin-message').textContent));
  assert.equal(await page.textContent('#pin-message'), 'Wrong PIN. 4 tries left.');
  await page.waitForSelector('#open-pin:not([disabled])');
  await page.fill('#pin', share.challenge.toLowerCase());
  await page.click('#open-pin');
  await fullRecordShown(page, 'Opened with the PIN.');
  const st = status(share.id);
  assert.equal(st.attempts_left, 4);
  const ua = await page.evaluate(() => navigator.userAgent);
  assert.deepEqual(st.emergency.accesses.map((a) => [a.tier, a.via, a.attestation, a.address, a.user_agent]),
    [['emergency', 'link', '', address, ua], ['full', 'pin', '', address, ua]]);
  assert.deepEqual(problems, []);
});

test('path 2: break glass with name, role, reason and the ticked statement shows the full record, logged', async () => {
  const share = createEmergency();
  const { page, problems, address } = await phonePage();
  await page.goto(share.url);
  await essentialsShown(page);
  assert.equal((await page.textContent('label.check')).replace(/\s+/g, ' ').trim(), 'I am a healthcare professional ' +
    'responding to an emergency; this access is logged and the patient is alerted.');
  await page.fill('#glass-name', 'Dr Jo Bloggs');
  await page.fill('#glass-role', 'paramedic');
  await page.fill('#glass-reason', 'patient unconscious, no ID');
  // Without the statement ticked nothing is sent.
  await page.click('#break-glass');
  assert.equal(await page.textContent('#glass-message'), 'Confirm the statement first: tick the box.');
  assert.equal(status(share.id).emergency.accesses.length, 1);
  await page.check('#glass-attest');
  await page.click('#break-glass');
  await fullRecordShown(page, 'Opened by break glass as “Dr Jo Bloggs; paramedic; patient unconscious, no ID”. ' +
    'This access is logged and the patient is alerted.');
  const ua = await page.evaluate(() => navigator.userAgent);
  const st = status(share.id);
  assert.equal(st.emergency.break_glass.uses, 1);
  assert.deepEqual(st.emergency.accesses.map((a) => [a.tier, a.via, a.attestation, a.address, a.user_agent]), [
    ['emergency', 'link', '', address, ua],
    ['full', 'break-glass', 'Dr Jo Bloggs; paramedic; patient unconscious, no ID', address, ua]]);
  assert.deepEqual(problems, []);
});

test('rate limits: the 11th read a minute from one address, and a third break glass, say when to retry', async () => {
  await freshMinute();
  const share = createEmergency();
  const { page, problems } = await phonePage();
  for (let i = 0; i < 10; i++) {
    await open(page, share.url);
    await essentialsShown(page);
  }
  await open(page, share.url);
  await page.waitForFunction(() => /Too many/.test(document.getElementById('message').textContent));
  assert.match(await page.textContent('#message'),
    /^Too many requests for this information right now\. Try again in \d+ seconds?\.$/);
  assert.equal(await page.isVisible('#retry'), true);
  assert.equal(await page.isVisible('#glass-form'), true);  // the link is alive: its other ways stay open

  // Break glass: two a minute from one address.
  const other = createEmergency();
  const responder = await phonePage();
  for (let i = 0; i < 3; i++) {
    await open(responder.page, other.url);
    await essentialsShown(responder.page);
    await responder.page.fill('#glass-name', 'Sam Lee');
    await responder.page.fill('#glass-role', 'paramedic');
    await responder.page.fill('#glass-reason', 'collapsed');
    await responder.page.check('#glass-attest');
    await responder.page.click('#break-glass');
    if (i < 2) {
      await responder.page.waitForSelector('#record:not([hidden]) .person-name');
    } else {
      await responder.page.waitForFunction(() => /Too many/.test(document.getElementById('glass-message').textContent));
      assert.match(await responder.page.textContent('#glass-message'),
        /^Too many break-glass requests from here\. Try again in \d+ seconds?\.$/);
      assert.equal(await responder.page.isVisible('#record'), false);
    }
  }
  assert.equal(status(other.id).emergency.break_glass.uses, 2);
  assert.deepEqual(problems, []);
  assert.deepEqual(responder.problems, []);
});

// A pause needs three uses and then a new minute (the per-link limit comes first within
// one), and the page refuses a malformed attestation before sending it; so here the
// server's exact answers for both (tests/cli/test_cli_share_emergency.cpp and
// share_emergency_cases.h produce them) are handed to the page by the browser itself.
test('break glass paused and a refused attestation: the page says what happened and keeps the PIN open', async () => {
  const share = createEmergency();
  const { page, problems } = await phonePage();
  const answers = [
    { status: 429, headers: { 'Retry-After': '3000' }, body: '{"error":"break_glass_paused"}\n' },
    { status: 400, headers: {}, body: '{"error":"bad_attestation","message":"State your name, role and reason: \\"NAME; ROLE; REASON\\"."}\n' },
  ];
  await page.route('**/e/*', (route) => {
    const req = route.request();
    if (req.method() !== 'POST' || !('attestation' in JSON.parse(req.postData()))) return route.continue();
    const a = answers.shift();
    return route.fulfill({ status: a.status, headers: { ...a.headers, 'Content-Type': 'application/json' }, body: a.body });
  });
  await page.goto(share.url);
  await essentialsShown(page);
  await page.fill('#glass-name', 'Sam Lee');
  await page.fill('#glass-role', 'paramedic');
  await page.fill('#glass-reason', 'collapsed');
  await page.check('#glass-attest');
  await page.click('#break-glass');
  await page.waitForFunction(() => /paused/.test(document.getElementById('glass-message').textContent));
  assert.equal(await page.textContent('#glass-message'), 'Break glass is paused on this link after several uses; ' +
    'the patient has been alerted. Try again in 50 minutes, or use the PIN.');
  await page.waitForSelector('#break-glass:not([disabled])');
  await page.click('#break-glass');
  await page.waitForFunction(() => /refused/.test(document.getElementById('glass-message').textContent));
  assert.equal(await page.textContent('#glass-message'),
    'The server refused the statement: give your name, role and reason in plain text.');
  assert.equal(await page.isVisible('#pin-form'), true);
  assert.equal(await page.isVisible('#record'), false);
  assert.equal(answers.length, 0);
  assert.deepEqual(problems, []);
});

test('a revoked link and a rotated one show the dead-link message; a link without its keys says so', async () => {
  const share = createEmergency();
  execFileSync(shcx, ['share', 'revoke', share.id, '--db', db], { stdio: 'ignore', timeout: 60000 });
  const { page, problems } = await phonePage();
  const res = await page.goto(share.url);
  assert.equal(res.status(), 200);  // the page itself tells nobody whether a link exists
  await page.waitForFunction(() => /no longer valid/.test(document.getElementById('message').textContent));
  assert.equal(await page.textContent('#message'), DEAD);
  assert.equal(await page.isVisible('#full'), false);
  assert.equal(await page.isVisible('#essentials'), false);

  const old = createEmergency();
  const rotated = shcxJson(['share', 'rotate', old.id, '--db', db, '--public-url', base, '--emergency', summary,
    '--full', card, '--json']);
  const second = await phonePage();
  await second.page.goto(old.url);
  await second.page.waitForFunction(() => /no longer valid/.test(document.getElementById('message').textContent));
  assert.equal(await second.page.textContent('#message'), DEAD);
  await second.page.goto(rotated.url);
  await essentialsShown(second.page);

  const bare = await phonePage();
  await bare.page.goto(rotated.url.split('#')[0]);
  assert.equal(await bare.page.textContent('#message'),
    'This link is incomplete. Scan the QR code again: the part of the link after "#" is needed.');
  assert.equal(await bare.page.isVisible('#full'), false);
  assert.deepEqual(problems, []);
  assert.deepEqual(second.problems, []);
  assert.deepEqual(bare.problems, []);
});
