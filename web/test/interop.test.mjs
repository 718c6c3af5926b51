// Byte-for-byte cross-checks with interop/app-crypto.js, i.e. the app's own npm libraries
// (node-forge 1.3.1, hkdf 0.0.2, srp-js 0.2.1) on random inputs. Test-only: the page code never
// loads them. Skipped when interop/node_modules is not installed (npm ci --prefix interop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import * as c from '../src/appcrypto.js';

const interop = fileURLToPath(new URL('../../interop/', import.meta.url));
// Never skipped: without the app's libraries these checks would pass by not running.
if (!existsSync(`${interop}node_modules/srp-js`)) {
  throw new Error('interop/node_modules is missing: run `npm ci --prefix interop` first');
}
const skip = false;
const require = createRequire(`${interop}package.json`);
const app = skip ? null : require('./app-crypto.js');
const srp = skip ? null : require('srp-js');

test('deriveKey equals hkdf@0.0.2 + PBKDF2 on random salts and non-ASCII inputs', { skip }, async () => {
  for (const [pass, email] of [['pässwörd ﬁ', 'ünïcode@example.com'], ['p', 'a@b.c']]) {
    const salt = c.randomHex32();
    const p = c.sanitizePassphrase(pass);
    const e = c.sanitizeEmail(email);
    assert.equal(await c.deriveKey(p, e, salt), await app.deriveKey(p, e, salt));
    assert.equal(p, app.sanitizePassphrase(pass));
  }
});

test('AES string API both ways with node-forge', { skip }, async () => {
  const jwk = await c.generateAES256Key();
  const hexKey = c.randomHex32();
  const text = '{"x":"Grüße, 世界 😀 %41 +/="}';
  assert.equal(app.decryptAES(jwk, await c.encryptAES(jwk, text)), text);
  assert.equal(app.decryptAES(hexKey, await c.encryptAES(hexKey, text)), text);
  assert.equal(await c.decryptAES(jwk, app.encryptAES(jwk, text)), text);
  assert.equal(c.stringifySortedMembers(jwk), app.stringifySortedMembers(jwk));
});

test('RSA-OAEP-256 both ways with node-forge', { skip }, async () => {
  const { publicKey, privateKey } = await c.generateRSAKeypair();
  const sym = c.stringifySortedMembers(await c.generateAES256Key());
  assert.equal(app.rsaDecrypt(privateKey, await c.rsaEncrypt(publicKey, sym)), sym);
  assert.equal(await c.rsaDecrypt(privateKey, app.rsaEncrypt(publicKey, sym)), sym);
});

test('SRP: our verifier and client against srp-js 0.2.1 Server (random salt, secret, a, b)', { skip }, async () => {
  const params = srp.params['2048'];
  for (let round = 0; round < 3; round++) {
    const salt = c.randomBytes(32);
    const email = c.utf8('andré@example.org');
    const secret = c.randomBytes(32);
    const verifier = await c.computeVerifier(c.toHex(salt), 'andré@example.org', c.toHex(secret));
    assert.equal(
      verifier,
      srp.computeVerifier(params, Buffer.from(salt), Buffer.from(email), Buffer.from(secret)).toString('hex'),
    );
    const server = new srp.Server(params, Buffer.from(verifier, 'hex'), Buffer.from(c.randomBytes(32)));
    const client = await c.SrpClient.create(salt, email, secret);
    server.setA(Buffer.from(client.A));
    const { M1, K } = await client.setB(new Uint8Array(server.computeB()));
    const m2 = server.checkM1(Buffer.from(M1)); // throws unless M1 matches
    client.checkM2(new Uint8Array(m2));
    assert.equal(c.toHex(K), server.computeK().toString('hex'));
  }
});
