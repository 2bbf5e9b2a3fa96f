// shcx against kill-the-clipboard, an independent implementation of SMART Health Cards and
// Links (TypeScript, on jose), in both directions:
//  - links it makes (SHL + SHLManifestBuilder, served by a small node server here) are read
//    and verified by `shcx verify` / `shcx decode`, passcodes and wrong passcodes included;
//  - cards its SHCIssuer signs verify in shcx, and cards `shcx issue` signs verify with its
//    SHCReader;
//  - links shcx's test server makes (lib/shcx/shl/jwe encryption, our manifest) are opened
//    by its SHLViewer;
//  - a share made by `shcx share create --shl` and served by `shcx share serve` opens once
//    in its SHLViewer (the PIN as passcode), and never again.
//  - an emergency share's SHL (flag L, no P) opens in its SHLViewer without a passcode,
//    again and again, with the emergency tier only, until it is revoked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SHCIssuer, SHCReader, SHL, SHLManifestBuilder, SHLViewer } from 'kill-the-clipboard';

const SHCX = process.env.SHCX_BIN;
const SHL_SERVE = process.env.SHCX_SHL_SERVE;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TESTDATA = join(ROOT, 'testdata');
const ISS = 'https://issuer.interop.example';
let tmp;

// Runs shcx with a deadline; resolves {code, stdout, stderr}. Never blocks the event loop,
// so the link server below keeps answering while shcx talks to it.
function shcx(args, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(SHCX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`shcx ${args[0]} timed out; ${stderr}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// An ES256 key pair as kill-the-clipboard wants it (PKCS#8 / SPKI PEM) and as shcx wants
// it (a JWKS whose kid is the RFC 7638 thumbprint).
function keyPair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const kid = crypto.createHash('sha256').update(canonical).digest('base64url');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
    publicJwk: { ...jwk, kid, use: 'sig', alg: 'ES256' },
  };
}

const issuerKeys = keyPair();
const bundle = JSON.parse(readFileSync(join(TESTDATA, 'bundles/covid-three-doses.json'), 'utf8'));
const ips = {
  resourceType: 'Bundle',
  type: 'document',
  entry: [
    { fullUrl: 'urn:uuid:c', resource: { resourceType: 'Composition', title: 'Patient Summary', subject: { reference: 'urn:uuid:p' } } },
    { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient', name: [{ given: ['Ada'], family: 'Lovelace' }], birthDate: '1815-12-10' } },
    {
      fullUrl: 'urn:uuid:a',
      resource: {
        resourceType: 'AllergyIntolerance',
        patient: { reference: 'urn:uuid:p' },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Penicillin allergy' }] },
      },
    },
  ],
};

// The link server: manifests built by SHLManifestBuilder, files from its storage callbacks,
// passcodes with a lifetime count of wrong attempts, as the spec asks of a sharer.
const files = new Map();
const links = new Map();  // manifest path -> { builder, passcode, attempts }
let base;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const path = new URL(req.url, base).pathname;
      const json = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
      if (req.method === 'GET' && path.startsWith('/files/') && files.has(path)) {
        res.writeHead(200, { 'content-type': 'application/jose' });
        return res.end(files.get(path));
      }
      const link = links.get(path);
      if (!link) return json(404, {});
      if (req.method === 'GET' && link.direct) {  // U: the file itself
        link.recipient = new URL(req.url, base).searchParams.get('recipient');
        res.writeHead(200, { 'content-type': 'application/jose' });
        return res.end(files.get(link.builder.files[0].storagePath));
      }
      if (req.method !== 'POST') return json(405, {});
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      link.lastRequest = request;
      if (link.passcode !== undefined) {
        if (link.attempts <= 0) return json(404, {});
        if (request.passcode !== link.passcode) {
          link.attempts -= 1;
          return json(401, { remainingAttempts: link.attempts });
        }
      }
      link.manifest = await link.builder.buildManifest({ embeddedLengthMax: request.embeddedLengthMax });
      return json(200, link.manifest);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
});

// A link made by kill-the-clipboard, registered with the server; returns its shlink:/ URI.
async function makeLink({ flag, label, passcode, content }) {
  const shl = SHL.generate({ baseManifestURL: `${base}/shl`, manifestPath: '/manifest.json', flag, label });
  const builder = new SHLManifestBuilder({
    shl,
    uploadFile: async (jwe) => { const p = `/files/${crypto.randomUUID()}`; files.set(p, jwe); return p; },
    getFileURL: async (p) => `${base}${p}`,
    loadFile: async (p) => files.get(p),
  });
  await content(builder);
  const entry = { builder, passcode, attempts: 3, direct: flag?.includes('U') ?? false };
  links.set(new URL(shl.url).pathname, entry);
  return { uri: shl.toURI(), entry };
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'shcx-interop-'));
  writeFileSync(join(tmp, 'jwks.json'), JSON.stringify({ keys: [issuerKeys.publicJwk] }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a card signed by SHCIssuer verifies in shcx', async () => {
  const issuer = new SHCIssuer({ issuer: ISS, privateKey: issuerKeys.privatePem, publicKey: issuerKeys.publicPem });
  // kill-the-clipboard writes "rid": null unless given one; shcx requires rid, when
  // present, to be a string (docs/verification.md), so the card is issued with one.
  const card = await issuer.issue(bundle, { rid: 'interop1' });
  writeFileSync(join(tmp, 'ktc.smart-health-card'), await card.asFileContent());
  const r = await shcx(['verify', '--json', join(tmp, 'ktc.smart-health-card'), '--jwks', `${ISS}=${join(tmp, 'jwks.json')}`]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout).results[0];
  assert.equal(result.status, 'valid');
  assert.equal(result.issuer.iss, ISS);
  assert.equal(result.card.kid, issuerKeys.publicJwk.kid);
  assert.equal(result.people[0].name, 'Adaeze N. Okafor');
  assert.equal(result.people[0].immunizations.length, 3);

  // And its QR numeric form, read by shcx as shc:/ text.
  writeFileSync(join(tmp, 'ktc.txt'), card.asQRNumeric().join('\n'));
  const q = await shcx(['verify', join(tmp, 'ktc.txt'), '--jwks', `${ISS}=${join(tmp, 'jwks.json')}`]);
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^VALID {2}/);
});

test('a card issued by shcx verifies with SHCReader', async () => {
  const key = join(tmp, 'shcx-key.jwk');
  const jwks = join(tmp, 'shcx-jwks.json');
  const out = join(tmp, 'shcx.smart-health-card');
  let r = await shcx(['keygen', '--out', key, '--jwks-out', jwks]);
  assert.equal(r.code, 0, r.stderr);
  r = await shcx(['issue', join(TESTDATA, 'bundles/lab-result.json'), '--key', key, '--iss', ISS, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const publicJwk = JSON.parse(readFileSync(jwks, 'utf8')).keys[0];
  const reader = new SHCReader({ publicKey: publicJwk });
  const card = await reader.fromFileContent(readFileSync(out, 'utf8'));
  const read = await card.asBundle();
  assert.equal(read.resourceType, 'Bundle');
  assert.equal(read.entry[0].resource.name[0].family, 'Lindqvist');
  // A modified card must not verify there either.
  const file = JSON.parse(readFileSync(out, 'utf8'));
  const [h, p, s] = file.verifiableCredential[0].split('.');
  const forged = `${h}.${p}.${s.slice(0, -2)}${s.slice(-2) === 'AA' ? 'AB' : 'AA'}`;
  await assert.rejects(reader.fromJWS(forged));
});

test('a link made by SHL + SHLManifestBuilder is read and verified by shcx verify', async () => {
  const issuer = new SHCIssuer({ issuer: ISS, privateKey: issuerKeys.privatePem, publicKey: issuerKeys.publicPem });
  const card = await issuer.issue(bundle, { rid: 'interop2' });
  const { uri, entry } = await makeLink({
    label: 'Interop card and summary',
    content: async (b) => {
      await b.addHealthCard({ shc: card });                                   // small: embedded, no zip
      await b.addHealthCard({ shc: card, enableCompression: true });          // zip DEF
      // Random padding does not compress: past shcx's embeddedLengthMax (64 KiB), so a location.
      await b.addFHIRResource({ content: { ...ips, padding: crypto.randomBytes(60_000).toString('base64') } });
    },
  });
  writeFileSync(join(tmp, 'link.txt'), `https://viewer.example/#${uri}\n`);
  const r = await shcx(['verify', '--json', join(tmp, 'link.txt'), '--jwks', `${ISS}=${join(tmp, 'jwks.json')}`,
    '--recipient', 'Interop Clinic']);
  assert.equal(r.code, 1, r.stderr);  // the FHIR document is unsigned: never "valid"
  assert.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.results.map((x) => [x.input.replace(tmp, 'T'), x.status]), [
    ['T/link.txt#file1', 'valid'],
    ['T/link.txt#file2', 'valid'],
    ['T/link.txt#file3', 'unsigned'],
  ]);
  assert.equal(doc.results[2].title, 'Patient Summary');
  assert.equal(doc.results[2].people[0].name, 'Ada Lovelace');
  assert.equal(doc.links[0].label, 'Interop card and summary');
  assert.equal(doc.links[0].files_listed, 3);
  assert.equal(doc.links[0].files_read, 3);
  assert.deepEqual(entry.lastRequest, { recipient: 'Interop Clinic', embeddedLengthMax: 65536 });
  assert.deepEqual(entry.manifest.files.map((f) => ('embedded' in f ? 'embedded' : 'location')),
    ['embedded', 'embedded', 'location']);
});

test('passcodes: a wrong one reports the remaining attempts, the right one opens the link', async () => {
  const issuer = new SHCIssuer({ issuer: ISS, privateKey: issuerKeys.privatePem, publicKey: issuerKeys.publicPem });
  const card = await issuer.issue(bundle, { rid: 'interop3' });
  const { uri } = await makeLink({ flag: 'P', passcode: 'correct horse', content: (b) => b.addHealthCard({ shc: card }) });
  const jwks = `${ISS}=${join(tmp, 'jwks.json')}`;
  const wrong = await shcx(['verify', uri, '--jwks', jwks, '--passcode', 'battery staple']);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr,
    'shcx: error: link-argument-1: SHL_PASSCODE_WRONG: the passcode was not accepted; 2 attempts remaining\n');
  writeFileSync(join(tmp, 'passcode'), 'correct horse\n');
  const right = await shcx(['verify', uri, '--jwks', jwks, '--passcode-file', join(tmp, 'passcode')]);
  assert.equal(right.code, 0, right.stderr);
  assert.match(right.stdout, /\nVALID {2}link-argument-1#file1\n/);
});

test('a U link (one file, GET) made by kill-the-clipboard is decoded by shcx', async () => {
  const { uri, entry } = await makeLink({ flag: 'U', content: (b) => b.addFHIRResource({ content: ips }) });
  const r = await shcx(['decode', '--json', uri, '--recipient', 'Dr. Interop']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.resources.length, 1);
  assert.equal(doc.resources[0].resourceType, 'Bundle');
  assert.deepEqual(doc.resources[0].resourceTypes, { Composition: 1, Patient: 1, AllergyIntolerance: 1 });
  assert.equal(entry.recipient, 'Dr. Interop');
});

// The shcx test SHL server as a child: resolves with its link, and a function that stops it.
function shcxServedLink(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(SHL_SERVE, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the shcx SHL server did not start')); }, 60_000);
    child.on('error', reject);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ link: line, stop: () => child.stdin.end() });
    });
  });
}

test('a link served by shcx (its JWE files and manifest) is opened by SHLViewer', async () => {
  writeFileSync(join(tmp, 'ips.json'), JSON.stringify(ips));
  const demoCard = join(TESTDATA, 'cards/covid-three-doses.smart-health-card');
  const served = await shcxServedLink([
    '--flag', 'P', '--passcode', 'swordfish',
    'embedded', 'application/smart-health-card', demoCard,
    'location+zip', 'application/fhir+json', join(tmp, 'ips.json'),
  ]);
  try {
    const viewer = new SHLViewer({ shlinkURI: `https://viewer.example/#${served.link}` });
    assert.equal(viewer.shl.requiresPasscode, true);
    await assert.rejects(viewer.resolveSHL({ recipient: 'ktc', passcode: 'wrong' }));
    const demoKey = JSON.parse(readFileSync(join(TESTDATA, 'issuer/jwks.json'), 'utf8')).keys[0];
    const resolved = await viewer.resolveSHL({
      recipient: 'ktc', passcode: 'swordfish', shcReaderConfig: { publicKey: demoKey },
    });
    assert.equal(resolved.smartHealthCards.length, 1);
    const cardBundle = await resolved.smartHealthCards[0].asBundle();
    assert.equal(cardBundle.entry[0].resource.resourceType, 'Patient');
    assert.equal(resolved.fhirResources.length, 1);
    assert.deepEqual(resolved.fhirResources[0], ips);
  } finally {
    served.stop();
  }
});

// `shcx share serve` on a free loopback port, with a fast KDF; stopped by the caller.
async function shareServer() {
  const port = await new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port: p } = s.address(); s.close(() => resolve(p)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const db = join(tmp, `shares-${port}.db`);
  const ready = join(tmp, `ready-${port}`);
  const child = spawn(SHCX, ['share', 'serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--public-url', url,
    '--ready-file', ready, '--kdf-memory', '1024', '--kdf-passes', '1'], { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; i < 2400 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));  // up to 60 s
  if (!existsSync(ready)) { child.kill('SIGKILL'); throw new Error('share server did not start'); }
  const user = await shcx(['share', 'user', 'add', 'interop', '--db', db]);
  assert.equal(user.code, 0, user.stderr);
  return { url, token: user.stdout.trim(), stop: () => child.kill('SIGTERM') };
}

test('a share made by shcx share create --shl opens once in SHLViewer, with the PIN as passcode', async () => {
  const srv = await shareServer();
  try {
    const card = join(TESTDATA, 'cards/covid-three-doses.smart-health-card');
    const made = await shcx(['share', 'create', card, '--server', srv.url, '--token', srv.token, '--shl', '--json',
      '--label', 'Interop share']);
    assert.equal(made.code, 0, made.stderr);
    const share = JSON.parse(made.stdout);
    assert.equal(share.url, `${srv.url}/v#${share.shlink}`);
    // The viewer URL as a phone camera would hand it over.
    const viewer = new SHLViewer({ shlinkURI: share.url });
    assert.equal(viewer.shl.requiresPasscode, true);
    assert.equal(viewer.shl.label, 'Interop share');
    assert.equal(viewer.shl.exp, Date.parse(share.expires_at) / 1000);
    const wrong = share.challenge === 'WRONG000' ? 'WRONG001' : 'WRONG000';
    await assert.rejects(viewer.resolveSHL({ recipient: 'ktc', passcode: wrong }), { name: 'SHLInvalidPasscodeError' });
    const demoKey = JSON.parse(readFileSync(join(TESTDATA, 'issuer/jwks.json'), 'utf8')).keys[0];
    const resolved = await viewer.resolveSHL({
      recipient: 'ktc', passcode: share.challenge, embeddedLengthMax: 100, shcReaderConfig: { publicKey: demoKey },
    });
    assert.equal(resolved.manifest.files.length, 1);
    assert.equal(resolved.manifest.files[0].contentType, 'application/smart-health-card');
    assert.equal(resolved.smartHealthCards.length, 1);
    const cardBundle = await resolved.smartHealthCards[0].asBundle();
    assert.equal(cardBundle.entry[0].resource.resourceType, 'Patient');
    assert.equal(resolved.fhirResources.length, 0);
    // One reveal: the second open, right passcode and all, finds nothing.
    const again = new SHLViewer({ shlinkURI: share.shlink });
    await assert.rejects(again.resolveSHL({ recipient: 'ktc', passcode: share.challenge }),
      { name: 'SHLManifestNotFoundError' });
    // The owner sees one wrong PIN and one reveal.
    const status = await shcx(['share', 'status', share.id, '--server', srv.url, '--token', srv.token, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const st = JSON.parse(status.stdout);
    assert.equal(st.state, 'used');
    assert.equal(st.wrong_pins, 1);
  } finally {
    srv.stop();
  }
});

test('an emergency share\'s SHL (flag L, no P) opens in SHLViewer without a passcode: the emergency tier only', async () => {
  const srv = await shareServer();
  try {
    const summary = join(tmp, 'emergency-summary.json');
    const full = join(tmp, 'emergency-full.json');
    writeFileSync(summary, JSON.stringify(bundle));
    writeFileSync(full, JSON.stringify(ips));
    const made = await shcx(['share', 'create', '--emergency', summary, '--full', full, '--server', srv.url,
      '--token', srv.token, '--json', '--label', 'Interop wristband']);
    assert.equal(made.code, 0, made.stderr);
    const share = JSON.parse(made.stdout);
    const viewer = new SHLViewer({ shlinkURI: share.shl });
    assert.equal(viewer.shl.requiresPasscode, false);
    assert.equal(viewer.shl.isLongTerm, true);
    assert.equal(viewer.shl.label, 'Interop wristband');
    assert.equal(viewer.shl.exp, Date.parse(share.expires_at) / 1000);
    const resolved = await viewer.resolveSHL({ recipient: 'ktc' });
    assert.equal(resolved.manifest.files.length, 1);
    assert.equal(resolved.manifest.files[0].contentType, 'application/fhir+json');
    assert.deepEqual(resolved.fhirResources, [bundle]);
    assert.equal(resolved.smartHealthCards.length, 0);
    // Long-term: it opens again; the owner's log has both reads, via shl.
    const again = await new SHLViewer({ shlinkURI: share.shl }).resolveSHL({ recipient: 'ktc' });
    assert.deepEqual(again.fhirResources, [bundle]);
    const status = await shcx(['share', 'status', share.id, '--server', srv.url, '--token', srv.token, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const accesses = JSON.parse(status.stdout).emergency.accesses;
    assert.deepEqual(accesses.map((a) => [a.tier, a.via]), [['emergency', 'shl'], ['emergency', 'shl']]);
    // Revoked: the manifest is gone, as for any dead link.
    const revoked = await shcx(['share', 'revoke', share.id, '--server', srv.url, '--token', srv.token]);
    assert.equal(revoked.code, 0, revoked.stderr);
    await assert.rejects(new SHLViewer({ shlinkURI: share.shl }).resolveSHL({ recipient: 'ktc' }),
      { name: 'SHLManifestNotFoundError' });
  } finally {
    srv.stop();
  }
});
