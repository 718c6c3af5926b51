// Unit tests of web/src/appcrypto.js and parseLoginKey against insomnia-wire.md §7.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';

import * as c from '../src/appcrypto.js';
import { parseLoginKey, DEEP_LINK_PREFIX } from '../src/login.js';

const sha256Hex = (text) => createHash('sha256').update(text).digest('hex');
const smoke = JSON.parse(
  readFileSync(new URL('../../crates/crypto/tests/data/smoke_account.json', import.meta.url), 'utf8'),
);

test('§7.1 deriveKey: HKDF(salt text, email) then PBKDF2-SHA256 100k', async () => {
  assert.equal(await c.hkdfSalt('salt', 'email'), '26e7e446c0d7897683510e1b439b2c9fd681b1c52a0d7eec91f31e710b2a8122');
  assert.equal(
    await c.deriveKey('Password', 'email', 'salt'),
    'fb058595c02ae9660ed7098273bf50e49407942ecc437bf317638d76c4578eae',
  );
});

test('sanitising like the app and kdf.rs (trim incl. BOM, keep NEL, lower-case, NFKD)', () => {
  assert.equal(c.sanitizeEmail('  Alice@Example.COM \n'), 'alice@example.com');
  assert.equal(c.sanitizePassphrase(' é ﬁ '), 'e\u0301 fi');
  assert.equal(c.sanitizeEmail('\uFEFFA@B.c'), 'a@b.c');
  assert.equal(c.sanitizePassphrase('pass\u0085'), 'pass\u0085');
});

test('§7.2 SRP k', async () => {
  assert.equal((await c.srpK()).toString(16).padStart(64, '0'), '05b9e8ef059c6b32ea59fc1d322d37f04aa30bae5aa9003b8321e21ddb04e300');
  assert.ok(c.SRP_N.toString(16).startsWith('ac6bdb41324a9a9b') && c.SRP_N.toString(16).endsWith('9e4aff73'));
});

test('§7.3 end-to-end account vector: secrets, verifier, A, B, u, S, K, M1, M2', async () => {
  const email = 'alice@example.com';
  const pass = 'correct horse battery staple';
  const [saltKey, saltAuth, saltEnc] = ['11', '22', '33'].map((b) => b.repeat(32));
  const authSecret = await c.deriveKey(pass, email, saltKey);
  assert.equal(authSecret, '1f1a060bf34423e3307a5c411e08c3cccea99d709cdada9d1eae59e5c94a6972');
  assert.equal(await c.deriveKey(pass, email, saltEnc), 'b26cf64166672b4e5091288bb0f059be82a36da2551f130a4831a63c34e880db');
  const x = await c.srpX(c.fromHex(saltAuth), c.utf8(email), c.fromHex(authSecret));
  assert.equal(x.toString(16).padStart(64, '0'), '16d382b027df02218f1fc3d92bb93ce0abac8e2505a85c874b548bcf2f8f1de7');
  const verifier = await c.computeVerifier(saltAuth, email, authSecret);
  assert.equal(verifier.length, 512);
  assert.ok(verifier.startsWith('36bbd8603dbd526d8fe89fef55ec25a5'));
  assert.equal(sha256Hex(verifier), '4556d260696a6ca1be7f082e7739eca3c86b9251cd8b2de75c1c22834e3d1764');

  const client = await c.SrpClient.create(c.fromHex(saltAuth), c.utf8(email), c.fromHex(authSecret), c.fromHex('0a'.repeat(32)));
  const A = c.toHex(client.A);
  assert.ok(A.startsWith('42807a414f102f87b96f4befe7702d6d'));
  assert.ok(sha256Hex(A).startsWith('16f99fb5') && sha256Hex(A).endsWith('fb1247'));
  // The server half (B = kv + g^b), computed here with the same BigInt helpers.
  const k = await c.srpK();
  const b = c.bytesToBigInt(c.fromHex('0b'.repeat(32)));
  const Bn = (k * c.bytesToBigInt(c.fromHex(verifier)) + c.modPow(c.SRP_G, b, c.SRP_N)) % c.SRP_N;
  const B = c.toHex(c.pad(Bn));
  assert.ok(B.startsWith('1eb680b087c0fa2f2bd097485404b1ae'));
  assert.ok(sha256Hex(B).startsWith('8411952f') && sha256Hex(B).endsWith('b1577a'));
  const { M1, K } = await client.setB(c.fromHex(B));
  assert.equal(client.u.toString(16).padStart(64, '0'), '211bf68ecd204a493f8ceb6e2318950ef340e68c5dca08fffdd2bedcfc95635d');
  assert.equal(sha256Hex(c.toHex(client.S)), 'd6ed5ebd97b753dd723577a74442ededaec59c7e43bb8a138e1596e9242129c5');
  assert.equal(c.toHex(K), 'd08b286d916a3fcc60f50e56028d8327ee721caf0f52242a634af84ef5e1df7c');
  assert.equal(c.toHex(M1), 'c4bd0ef9d4afc111a373570a56e7c41f1d4e109ddf177e0bd7e15deb3bbc6336');
  client.checkM2(c.fromHex('5e061b9644474314b814e7a6c75f7ad905b5906958c4997aa1214835592805a6'));
  assert.throws(() => client.checkM2(c.fromHex('00'.repeat(32))), /M2 mismatch/);
  // The server-side S agrees too: (A·v^u)^b.
  const Sserver = c.modPow(c.bytesToBigInt(client.A) * c.modPow(c.bytesToBigInt(c.fromHex(verifier)), client.u, c.SRP_N), b, c.SRP_N);
  assert.equal(c.toHex(c.pad(Sserver)), c.toHex(client.S));
});

test('SRP rejects B outside 1..N-1 and B of the wrong length', async () => {
  const client = await c.SrpClient.create(c.fromHex('22'.repeat(32)), c.utf8('a@b.c'), c.fromHex('11'.repeat(32)));
  await assert.rejects(client.setB(new Uint8Array(256)), /must be 1\.\.N-1/);
  await assert.rejects(client.setB(c.fromHex(c.SRP_N.toString(16))), /must be 1\.\.N-1/);
  await assert.rejects(client.setB(new Uint8Array(255)), /not 256 bytes/);
});

test('§7.6 AES-GCM message format with the percent-encoding quirk', async () => {
  const jwk = { k: '5hs1f2xuiNPHUp11i6SWlsqYpWe_hWPcEKucZlwBfFE' };
  const sealed = await c.encryptAES(jwk, 'Hello World! ü', {
    iv: c.fromHex('000102030405060708090a0b'),
    ad: c.utf8('additional data'),
  });
  assert.equal(
    JSON.stringify(sealed),
    '{"iv":"000102030405060708090a0b","t":"f1ae16c052b00587fc13c941b690e13b","ad":"6164646974696f6e616c2064617461","d":"c1e04ff22dfc888897386d82c23e5874c7966211240eb5"}',
  );
  assert.equal(await c.decryptAES(jwk, sealed), 'Hello World! ü');
  assert.equal(c.utf8Decode(await c.aesOpenBytes(jwk, sealed)), 'Hello%20World!%20%C3%BC');
  await assert.rejects(c.decryptAES({ k: 'A'.repeat(43) }, sealed), /Failed to decrypt data/);
  // A hex key works as well as a JWK.
  const hexKey = c.toHex(c.fromHex('e61b357f6c6e88d3c7529d758ba49696ca98a567bf8563dc10ab9c665c017c51'));
  assert.equal(await c.decryptAES(hexKey, sealed), 'Hello World! ü');
});

test('§7.5 key chain of the smoke-test account; RSA-OAEP-256 round trip and the 190-byte limit', async () => {
  const key = JSON.parse(smoke.codeOpensTo).key;
  const symText = await c.decryptAES(key, JSON.parse(smoke.encSymmetricKey));
  assert.equal(symText, smoke.symmetricKey);
  const priv = JSON.parse(await c.decryptAES(JSON.parse(symText), JSON.parse(smoke.encPrivateKey)));
  const pub = JSON.parse(smoke.publicKey);
  assert.equal(priv.n, pub.n);
  assert.equal(priv.alg, 'RSA-OAEP-256');
  const hex = await c.rsaEncrypt(pub, symText);
  assert.equal(hex.length, 512);
  assert.equal(await c.rsaDecrypt(priv, hex), symText);
  assert.equal(encodeURIComponent(symText).length, 190);
  await assert.rejects(c.rsaEncrypt(pub, symText + 'x'));
});

test('generated keys have the app JWK shapes, members in Chromium order', async () => {
  const sym = await c.generateAES256Key();
  const symText = c.stringifySortedMembers(sym);
  assert.match(symText, /^\{"alg":"A256GCM","ext":true,"k":"[A-Za-z0-9_-]{43}","key_ops":\["encrypt","decrypt"\],"kty":"oct"\}$/);
  assert.equal(symText.length, 122);
  const { publicKey, privateKey } = await c.generateRSAKeypair();
  assert.deepEqual(Object.keys(publicKey), ['alg', 'e', 'ext', 'key_ops', 'kty', 'n']);
  assert.deepEqual(Object.keys(privateKey), ['alg', 'd', 'dp', 'dq', 'e', 'ext', 'key_ops', 'kty', 'n', 'p', 'q', 'qi']);
  assert.equal(publicKey.alg, 'RSA-OAEP-256');
  assert.equal(publicKey.e, 'AQAB');
  assert.deepEqual(publicKey.key_ops, ['encrypt']);
  assert.deepEqual(privateKey.key_ops, ['decrypt']);
  assert.equal(Buffer.from(publicKey.n, 'base64url').length, 256);
  // The largest project key the app sends fits: a JWK made here, RSA-wrapped with a key made here.
  assert.equal(await c.rsaDecrypt(privateKey, await c.rsaEncrypt(publicKey, symText)), symText);
});

test('§7.4 sealed box: the smoke-test code opens with our crypto_box_seal_open', () => {
  const pk = c.fromBase64(smoke.appPublicKey);
  const sk = c.fromBase64(smoke.appSecretKey);
  const box = c.fromBase64(decodeURIComponent(smoke.code));
  assert.equal(box.length, 197);
  const opened = c.sealOpen(box, pk, sk);
  assert.ok(opened, 'box opens');
  assert.equal(c.utf8Decode(opened), smoke.codeOpensTo);
});

test('sealBox output opens with crypto_box_seal_open (tweetnacl + blakejs) and not with another key', () => {
  const app = nacl.box.keyPair();
  const message = c.utf8('{"token":"ab","key":"cd"}');
  const box = c.sealBox(message, app.publicKey);
  assert.equal(box.length, message.length + 48);
  assert.deepEqual(c.sealOpen(box, app.publicKey, app.secretKey), message);
  const other = nacl.box.keyPair();
  assert.equal(c.sealOpen(box, other.publicKey, other.secretKey), null);
  const tampered = box.slice();
  tampered[40] ^= 1;
  assert.equal(c.sealOpen(tampered, app.publicKey, app.secretKey), null);
  // Deterministic given the ephemeral secret; the ephemeral public key leads the box.
  const esk = c.fromHex('07'.repeat(32));
  const b1 = c.sealBox(message, app.publicKey, esk.slice());
  assert.deepEqual(b1.subarray(0, 32), nacl.box.keyPair.fromSecretKey(esk).publicKey);
  assert.deepEqual(c.sealBox(message, app.publicKey, esk.slice()), b1);
});

test('parseLoginKey: plain, double-encoded (as the app sends it), single-encoded; malformed rejected', () => {
  const key = smoke.appPublicKey; // has '/', '+' and '='
  // What the app does: encodeURIComponent, then URLSearchParams (encodes the '%' again).
  const appUrl = new URL('http://h/app/auth-app/');
  appUrl.searchParams.set('loginKey', encodeURIComponent(key));
  appUrl.searchParams.set('provider', 'email');
  assert.match(appUrl.search, /%252F/);
  assert.equal(parseLoginKey(appUrl.search), key);
  assert.equal(parseLoginKey(`?loginKey=${encodeURIComponent(key)}`), key);
  assert.equal(parseLoginKey(`loginKey=${encodeURIComponent(encodeURIComponent(key))}`), key);
  assert.equal(parseLoginKey(`?loginKey=${key}`), key); // raw: '+' arrives as a space
  for (const [search, why] of [
    ['', /start the log-in from the app/],
    ['?provider=email', /start the log-in from the app/],
    ['?loginKey=', /start the log-in from the app/],
    ['?loginKey=%25ZZ', /bad percent-encoding/],
    ['?loginKey=not-base64!', /not a base64 key/],
    ['?loginKey=' + encodeURIComponent(key.replace(/\//g, '_').replace(/\+/g, '-')), /not a base64 key/],
    ['?loginKey=' + encodeURIComponent(key.slice(0, -1)), /not a base64 key/],
    ['?loginKey=' + encodeURIComponent(c.toBase64(new Uint8Array(31))), /31 bytes/],
    ['?loginKey=' + encodeURIComponent(c.toBase64(new Uint8Array(33))), /33 bytes/],
  ]) {
    assert.throws(() => parseLoginKey(search), why, search);
  }
  assert.equal(DEEP_LINK_PREFIX, 'insomnia://app/auth/finish?box=');
});
