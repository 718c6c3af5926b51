'use strict';
// The Insomnia app's account and sync crypto, done with the npm packages the app uses
// (node-forge 1.3.1, hkdf 0.0.2, srp-js 0.2.1) and Node's WebCrypto where the app uses
// WebCrypto. Shared by harness.js (driven by crates/crypto/tests/interop.rs) and sync-client.js
// (driven by crates/cli/tests/interop_sync.rs).
//
// The algorithms follow insomnia-wire.md §1, §2.3 and §4.1 and the app's
// packages/insomnia/src/account/crypt.ts and sync/lib/deterministicStringify.ts (re-written
// here, not copied).

// hkdf@0.0.2 and srp-js@0.2.1 call the deprecated `new Buffer()`; keep stderr quiet.
process.noDeprecation = true;

const forge = require('node-forge');
const HKDF = require('hkdf');
const srp = require('srp-js');
const nodeCrypto = require('crypto');

const { subtle } = nodeCrypto.webcrypto;

/** srp-js's 2048-bit group with SHA-256, the one the app logs in with (§2.3). */
const SRP_PARAMS = srp.params['2048'];
const PBKDF2_ROUNDS = 100000;
const KEY_BYTES = 32;

// ---------------------------------------------------------------- encodings

function hexToBuffer(hex, what) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`${what} is not hex`);
  }
  return Buffer.from(hex, 'hex');
}

// The app's _b64UrlToHex: base64url (unpadded) → hex, through atob.
function b64UrlToHex(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return forge.util.bytesToHex(atob(b64));
}

function b64UrlToBigInt(text) {
  return new forge.jsbn.BigInteger(b64UrlToHex(text), 16);
}

// ---------------------------------------------------------------- AES-256-GCM (§1.1)

// The app's key argument: a hex string (raw key) or a JWK (its `k`), as forge's binary string.
function aesKeyBytes(key) {
  const hex = typeof key === 'string' ? key : b64UrlToHex(key.k || '');
  const bytes = forge.util.hexToBytes(hex);
  if (bytes.length !== KEY_BYTES) {
    throw new Error(`AES key is ${bytes.length} bytes, expected ${KEY_BYTES}`);
  }
  return bytes;
}

// encryptAES / encryptAESBuffer: random 12-byte IV, 128-bit tag, AD given as a binary string.
function aesSeal(key, binaryPlaintext, additionalData) {
  const cipher = forge.cipher.createCipher('AES-GCM', aesKeyBytes(key));
  const iv = forge.random.getBytesSync(12);
  cipher.start({ iv, additionalData, tagLength: 128 });
  cipher.update(forge.util.createBuffer(binaryPlaintext));
  cipher.finish();
  return {
    iv: forge.util.bytesToHex(iv),
    t: forge.util.bytesToHex(cipher.mode.tag),
    ad: forge.util.bytesToHex(additionalData),
    d: forge.util.bytesToHex(cipher.output),
  };
}

// decryptAES / decryptAESToBuffer up to the final conversion: returns forge's output buffer.
function aesOpen(key, message) {
  const decipher = forge.cipher.createDecipher('AES-GCM', aesKeyBytes(key));
  decipher.start({
    iv: forge.util.hexToBytes(message.iv),
    tagLength: message.t.length * 4,
    tag: forge.util.hexToBytes(message.t),
    additionalData: forge.util.hexToBytes(message.ad),
  });
  decipher.update(forge.util.createBuffer(forge.util.hexToBytes(message.d)));
  if (!decipher.finish()) {
    throw new Error('Failed to decrypt data');
  }
  return decipher.output;
}

// The string API (encryptAES / decryptAES): the text travels percent-encoded
// (encodeURIComponent) under GCM, and no caller passes additional data. Account keys use it.
function encryptAES(key, text) {
  return aesSeal(key, encodeURIComponent(text), '');
}

function decryptAES(key, message) {
  return decodeURIComponent(aesOpen(key, message).toString());
}

// The buffer API (encryptAESBuffer / decryptAESToBuffer): raw bytes, no percent-encoding. Sync
// blobs use it.
function encryptAESBuffer(key, buffer) {
  return aesSeal(key, Buffer.from(buffer).toString('binary'), '');
}

function decryptAESToBuffer(key, message) {
  return Buffer.from(aesOpen(key, message).getBytes(), 'binary');
}

// ---------------------------------------------------------------- RSA-OAEP-256 (§1.3)

// OAEP options as the app passes them: {md: sha256}. forge then uses the same digest for MGF1
// (node-forge lib/pkcs1.js: `if(!mgf1Md) { mgf1Md = md; }`), i.e. RSA-OAEP-256 with MGF1-SHA-256.
function oaepOptions() {
  return { md: forge.md.sha256.create() };
}

function rsaEncrypt(jwk, text) {
  if (jwk.alg !== 'RSA-OAEP-256') throw new Error('Public key algorithm was not RSA-OAEP-256');
  if (jwk.kty !== 'RSA') throw new Error('Public key type was not RSA');
  if (!jwk.key_ops || !jwk.key_ops.find((op) => op === 'encrypt')) {
    throw new Error('Public key does not have "encrypt" op');
  }
  if (!jwk.n || !jwk.e) throw new Error('Public key is missing parameters');
  const publicKey = forge.pki.setRsaPublicKey(b64UrlToBigInt(jwk.n), b64UrlToBigInt(jwk.e));
  const encrypted = publicKey.encrypt(encodeURIComponent(text), 'RSA-OAEP', oaepOptions());
  return forge.util.bytesToHex(encrypted);
}

function rsaDecrypt(jwk, hex) {
  for (const member of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']) {
    if (!jwk[member]) throw new Error('Private key is missing parameters');
  }
  const privateKey = forge.pki.setRsaPrivateKey(
    b64UrlToBigInt(jwk.n),
    b64UrlToBigInt(jwk.e),
    b64UrlToBigInt(jwk.d),
    b64UrlToBigInt(jwk.p),
    b64UrlToBigInt(jwk.q),
    b64UrlToBigInt(jwk.dp),
    b64UrlToBigInt(jwk.dq),
    b64UrlToBigInt(jwk.qi),
  );
  const decrypted = privateKey.decrypt(forge.util.hexToBytes(hex), 'RSA-OAEP', oaepOptions());
  return decodeURIComponent(decrypted);
}

// ---------------------------------------------------------------- key derivation (§1.4)

// Step 1 of deriveKey: hkdf@0.0.2 with (hash, salt = the salt's hex TEXT, ikm = email), info ''.
function hkdfSalt(salt, email) {
  return new Promise((resolve) => {
    new HKDF('sha256', salt, email).derive('', KEY_BYTES, (buffer) => resolve(buffer.toString('hex')));
  });
}

// Step 2 as the app runs it in Electron: WebCrypto PBKDF2 over the passphrase's UTF-8 bytes.
async function pbkdf2WebCrypto(passphrase, saltHex) {
  const key = await subtle.importKey('raw', Buffer.from(passphrase, 'utf8'), { name: 'PBKDF2' }, false, [
    'deriveBits',
  ]);
  const bits = await subtle.deriveBits(
    { name: 'PBKDF2', salt: Buffer.from(saltHex, 'hex'), iterations: PBKDF2_ROUNDS, hash: 'SHA-256' },
    key,
    KEY_BYTES * 8,
  );
  return Buffer.from(bits).toString('hex');
}

// Step 2 with node-forge, as the app's fallback (no WebCrypto) does. `password` is handed to forge
// as a JS string, which forge treats as a *binary* string (one byte per UTF-16 code unit).
function pbkdf2Forge(password, saltHex) {
  const raw = forge.pkcs5.pbkdf2(
    password,
    forge.util.hexToBytes(saltHex),
    PBKDF2_ROUNDS,
    KEY_BYTES,
    forge.md.sha256.create(),
  );
  return forge.util.bytesToHex(raw);
}

// deriveKey(passphrase, email, salt) as the app runs it: HKDF, then WebCrypto PBKDF2. 64 hex.
async function deriveKey(passphrase, email, salt) {
  return pbkdf2WebCrypto(passphrase, await hkdfSalt(salt, email));
}

// The input clean-up the app's callers apply before deriveKey and SRP (SRP-APP, WEB).
function sanitizeEmail(email) {
  return email.trim().toLowerCase();
}

function sanitizePassphrase(passphrase) {
  return passphrase.trim().normalize('NFKD');
}

// ---------------------------------------------------------------- keys (§1.2)

// JSON.stringify of a copy of `object` whose members are inserted in name order. Chromium's
// WebCrypto (the app's runtime) exports JWKs with members in that order; Node's does not.
function stringifySortedMembers(object) {
  const sorted = {};
  for (const key of Object.keys(object).sort()) sorted[key] = object[key];
  return JSON.stringify(sorted);
}

// The app's generateAES256Key: WebCrypto AES-GCM 256, exported as a JWK.
async function generateAES256Key() {
  const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  return subtle.exportKey('jwk', key);
}

// ---------------------------------------------------------------- sync (§4.1)

// The app's deterministicStringify: sorted keys (JS default sort), no whitespace, members and
// array items that stringify to '' dropped, scalars through JSON.stringify.
function deterministicStringify(value) {
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object Object]') {
    const pairs = [];
    for (const key of Object.keys(value).sort()) {
      const k = deterministicStringify(key);
      const v = deterministicStringify(value[key]);
      if (k !== '' && v !== '') pairs.push(`${k}:${v}`);
    }
    return `{${pairs.join(',')}}`;
  }
  if (tag === '[object Array]') {
    const items = [];
    for (const item of value) {
      const text = deterministicStringify(item);
      if (text !== '') items.push(text);
    }
    return `[${items.join(',')}]`;
  }
  const text = JSON.stringify(value);
  return text === undefined ? '' : text;
}

// The app's hashing of blobs and snapshots: SHA-1 over UTF-8, lowercase hex.
function sha1Hex(...parts) {
  const hash = nodeCrypto.createHash('sha1');
  for (const part of parts) hash.update(part, 'utf8');
  return hash.digest('hex');
}

module.exports = {
  SRP_PARAMS,
  PBKDF2_ROUNDS,
  KEY_BYTES,
  hexToBuffer,
  b64UrlToHex,
  b64UrlToBigInt,
  aesKeyBytes,
  aesSeal,
  aesOpen,
  encryptAES,
  decryptAES,
  encryptAESBuffer,
  decryptAESToBuffer,
  oaepOptions,
  rsaEncrypt,
  rsaDecrypt,
  hkdfSalt,
  pbkdf2WebCrypto,
  pbkdf2Forge,
  deriveKey,
  sanitizeEmail,
  sanitizePassphrase,
  stringifySortedMembers,
  generateAES256Key,
  deterministicStringify,
  sha1Hex,
};
