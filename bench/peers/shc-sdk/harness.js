// Verifies every JWS file in a directory with @pathcheck/shc-sdk, the issuer key supplied
// locally, and prints "cards N seconds S per_second R". The SDK resolves keys over the
// network (its trust registry, then <iss>/.well-known/jwks.json) even for keys handed to
// it; `cross-fetch` is replaced before the SDK loads so those look-ups are answered from
// the supplied JWKS and nothing leaves the machine.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const [dir, jwksFile, iss] = process.argv.slice(2);
if (!dir || !jwksFile || !iss) {
  console.error('usage: node harness.js CARD_DIR JWKS ISS');
  process.exit(2);
}
const jwks = JSON.parse(fs.readFileSync(jwksFile, 'utf8'));
const registry = { SmartHealthCards: {} };
for (const key of jwks.keys) {
  registry.SmartHealthCards[`${iss}#${key.kid}`] = { status: 'current', didDocument: key, entityType: 'issuer' };
}
const fakeFetch = async (url) => {
  const body = url.endsWith('/.well-known/jwks.json') ? jwks : registry;
  return { status: 200, text: async () => JSON.stringify(body), json: async () => body };
};
const crossFetchPath = require.resolve('cross-fetch', { paths: [path.dirname(require.resolve('@pathcheck/shc-sdk'))] });
const stub = new Module(crossFetchPath);
stub.exports = fakeFetch;
stub.exports.default = fakeFetch;
stub.loaded = true;
require.cache[crossFetchPath] = stub;

const sdk = require('@pathcheck/shc-sdk');

(async () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jws')).sort();
  const cards = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim());
  // Warm up (first key resolution, JIT).
  if (!(await sdk.verify(cards[0]))) throw new Error('the peer rejects the first card');
  const t0 = process.hrtime.bigint();
  let ok = 0;
  for (const c of cards) if (await sdk.verify(c)) ok++;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (ok !== cards.length) {
    console.error(`the peer verified ${ok} of ${cards.length} cards`);
    process.exit(1);
  }
  console.log(`cards ${cards.length} seconds ${seconds.toFixed(3)} per_second ${(cards.length / seconds).toFixed(1)}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
