'use strict';
// Cross-implementation harness: the Insomnia app's crypto, done with the npm packages the app
// uses (node-forge, hkdf, srp-js, tweetnacl, blakejs) and Node's WebCrypto, driven over
// stdin/stdout by crates/crypto/tests/interop.rs.
//
// Protocol: one JSON request per line on stdin, `{"id": n, "op": "...", ...args}`; one JSON
// response per line on stdout, `{"id": n, "ok": true, "result": ...}` or
// `{"id": n, "ok": false, "error": "..."}`. Binary values are lowercase hex unless an op says
// otherwise. Nothing else is ever written to stdout; diagnostics go to stderr.
//
// The algorithms follow insomnia-wire.md §1, §2.3, §3 and §4.1 and the app's
// packages/insomnia/src/account/crypt.ts and sync/lib/deterministicStringify.ts (re-written
// here, not copied).

// hkdf@0.0.2 and srp-js@0.2.1 call the deprecated `new Buffer()`; keep stderr quiet.
process.noDeprecation = true;

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const nodeCrypto = require('crypto');

const forge = require('node-forge');
const HKDF = require('hkdf');
const srp = require('srp-js');
const nacl = require('tweetnacl');
const blake = require('blakejs');

const { subtle } = nodeCrypto.webcrypto;
const SRP_PARAMS = srp.params['2048'];
const PBKDF2_ROUNDS = 100000;
const KEY_BYTES = 32;

// ---------------------------------------------------------------- helpers

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

function concatBytes(left, right) {
  const out = new Uint8Array(left.length + right.length);
  out.set(left, 0);
  out.set(right, left.length);
  return out;
}

// libsodium crypto_box_seal with tweetnacl: epk ‖ box(msg, blake2b-192(epk ‖ pk), pk, esk).
function sealedBoxSeal(recipient, message) {
  if (recipient.length !== nacl.box.publicKeyLength) throw new Error('recipient key is not 32 bytes');
  const ephemeral = nacl.box.keyPair();
  const nonce = blake.blake2b(concatBytes(ephemeral.publicKey, recipient), null, nacl.box.nonceLength);
  const boxed = nacl.box(message, nonce, recipient, ephemeral.secretKey);
  return concatBytes(ephemeral.publicKey, boxed);
}

function sealedBoxOpen(secret, sealed) {
  if (secret.length !== nacl.box.secretKeyLength) throw new Error('secret key is not 32 bytes');
  const pkLen = nacl.box.publicKeyLength;
  if (sealed.length < pkLen + nacl.box.overheadLength) throw new Error('sealed box too short');
  const recipient = nacl.box.keyPair.fromSecretKey(secret).publicKey;
  const ephemeral = sealed.subarray(0, pkLen);
  const nonce = blake.blake2b(concatBytes(ephemeral, recipient), null, nacl.box.nonceLength);
  const message = nacl.box.open(sealed.subarray(pkLen), nonce, ephemeral, secret);
  if (!message) throw new Error('sealed box did not open');
  return message;
}

function fromBase64(text, what) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error(`${what} is not standard base64`);
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function toBase64(bytes) {
  return Buffer.from(bytes).toString('base64');
}

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

// JSON.stringify of a copy of `object` whose members are inserted in name order. Chromium's
// WebCrypto (the app's runtime) exports JWKs with members in that order; Node's does not.
function stringifySortedMembers(object) {
  const sorted = {};
  for (const key of Object.keys(object).sort()) sorted[key] = object[key];
  return JSON.stringify(sorted);
}

function installedVersions() {
  const out = {};
  for (const name of ['node-forge', 'hkdf', 'srp-js', 'tweetnacl', 'blakejs']) {
    const manifest = path.join(__dirname, 'node_modules', name, 'package.json');
    out[name] = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  }
  out.node = process.versions.node;
  return out;
}

// ---------------------------------------------------------------- operations

const srpClients = new Map();
const srpServers = new Map();
let nextHandle = 1;

function takeHandle(map, handle, what) {
  const entry = map.get(handle);
  if (!entry) throw new Error(`unknown ${what} handle ${handle}`);
  return entry;
}

const ops = {
  versions: () => installedVersions(),

  aes_encrypt_string: ({ key, text }) => aesSeal(key, encodeURIComponent(text), ''),
  aes_decrypt_string: ({ key, message }) => decodeURIComponent(aesOpen(key, message).toString()),
  aes_encrypt_bytes: ({ key, hex }) =>
    aesSeal(key, hexToBuffer(hex, 'plaintext').toString('binary'), ''),
  aes_decrypt_bytes: ({ key, message }) =>
    Buffer.from(forge.util.bytesToHex(aesOpen(key, message)), 'hex').toString('hex'),

  // As the app's generateKeyPairJWK with WebCrypto. The JWKs are also returned as text, since
  // member order is lost once parsed on the Rust side: `*Text` is JSON.stringify of Node's
  // object as it is, `*SortedText` the same with members in name order (Chromium's order).
  rsa_generate: async () => {
    const pair = await subtle.generateKey(
      {
        name: 'RSA-OAEP',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['encrypt', 'decrypt'],
    );
    const publicJwk = await subtle.exportKey('jwk', pair.publicKey);
    const privateJwk = await subtle.exportKey('jwk', pair.privateKey);
    return {
      publicJwk,
      privateJwk,
      publicJwkText: JSON.stringify(publicJwk),
      privateJwkText: JSON.stringify(privateJwk),
      publicJwkSortedText: stringifySortedMembers(publicJwk),
      privateJwkSortedText: stringifySortedMembers(privateJwk),
    };
  },
  // The app's generateAES256Key: WebCrypto AES-GCM 256, exported as a JWK.
  aes_generate: async () => {
    const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    return subtle.exportKey('jwk', key);
  },
  // The app's getRandomHex: `bytes` random bytes as lowercase hex.
  random_hex: ({ bytes }) => nodeCrypto.randomBytes(bytes || 32).toString('hex'),
  rsa_encrypt: ({ publicJwk, text }) => rsaEncrypt(publicJwk, text),
  rsa_decrypt: ({ privateJwk, hex }) => rsaDecrypt(privateJwk, hex),

  // deriveKey as the app runs it (HKDF from hkdf@0.0.2, PBKDF2 from WebCrypto). Cross-checked
  // against forge.pkcs5.pbkdf2 over the passphrase's UTF-8 bytes; a disagreement is an error.
  derive_key: async ({ passphrase, email, salt }) => {
    const combined = await hkdfSalt(salt, email);
    const native = await pbkdf2WebCrypto(passphrase, combined);
    const viaForge = pbkdf2Forge(forge.util.encodeUtf8(passphrase), combined);
    if (native !== viaForge) {
      throw new Error(`WebCrypto PBKDF2 ${native} != forge PBKDF2 over UTF-8 ${viaForge}`);
    }
    return native;
  },
  // The app's no-WebCrypto fallback exactly: forge.pkcs5.pbkdf2 given the passphrase as a JS
  // string. Only equal to deriveKey for ASCII passphrases (see harness notes in interop.rs).
  derive_key_forge_fallback: async ({ passphrase, email, salt }) =>
    pbkdf2Forge(passphrase, await hkdfSalt(salt, email)),

  // The input clean-up the app's callers apply before deriveKey (SRP-APP, WEB).
  sanitize: ({ email, passphrase }) => ({
    email: email.trim().toLowerCase(),
    passphrase: passphrase.trim().normalize('NFKD'),
  }),

  srp_verifier: ({ salt, identity, password }) =>
    srp
      .computeVerifier(
        SRP_PARAMS,
        hexToBuffer(salt, 'salt'),
        Buffer.from(identity, 'utf8'),
        hexToBuffer(password, 'password'),
      )
      .toString('hex'),
  srp_client_start: ({ salt, identity, password, a }) => {
    const client = new srp.Client(
      SRP_PARAMS,
      hexToBuffer(salt, 'salt'),
      Buffer.from(identity, 'utf8'),
      hexToBuffer(password, 'password'),
      hexToBuffer(a, 'a'),
    );
    const handle = nextHandle++;
    srpClients.set(handle, client);
    return { handle, A: client.computeA().toString('hex') };
  },
  srp_client_finish: ({ handle, B }) => {
    const client = takeHandle(srpClients, handle, 'SRP client');
    client.setB(hexToBuffer(B, 'B'));
    return { M1: client.computeM1().toString('hex'), K: client.computeK().toString('hex') };
  },
  srp_client_check: ({ handle, M2 }) => {
    const client = takeHandle(srpClients, handle, 'SRP client');
    srpClients.delete(handle);
    client.checkM2(hexToBuffer(M2, 'M2'));
    return true;
  },
  srp_server_start: ({ verifier, b, A }) => {
    const server = new srp.Server(SRP_PARAMS, hexToBuffer(verifier, 'verifier'), hexToBuffer(b, 'b'));
    server.setA(hexToBuffer(A, 'A'));
    const handle = nextHandle++;
    srpServers.set(handle, server);
    return { handle, B: server.computeB().toString('hex') };
  },
  srp_server_finish: ({ handle, M1 }) => {
    const server = takeHandle(srpServers, handle, 'SRP server');
    srpServers.delete(handle);
    const M2 = server.checkM1(hexToBuffer(M1, 'M1'));
    return { M2: M2.toString('hex'), K: server.computeK().toString('hex') };
  },

  seal: ({ recipient, message }) =>
    toBase64(sealedBoxSeal(fromBase64(recipient, 'recipient'), new Uint8Array(hexToBuffer(message, 'message')))),
  open: ({ secret, box }) =>
    Buffer.from(sealedBoxOpen(fromBase64(secret, 'secret'), fromBase64(box, 'box'))).toString('hex'),
  keypair: () => {
    const pair = nacl.box.keyPair();
    return { publicKey: toBase64(pair.publicKey), secretKey: toBase64(pair.secretKey) };
  },

  stringify: ({ value }) => deterministicStringify(value),
  sha1: ({ text }) => nodeCrypto.createHash('sha1').update(text, 'utf8').digest('hex'),
};

// ---------------------------------------------------------------- main loop

function respond(response) {
  process.stdout.write(`${JSON.stringify(response)}\n`);
}

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    respond({ id: null, ok: false, error: `request is not JSON: ${err.message}` });
    return;
  }
  const { id, op } = request;
  try {
    const fn = Object.prototype.hasOwnProperty.call(ops, op) ? ops[op] : undefined;
    if (!fn) throw new Error(`unknown op ${JSON.stringify(op)}`);
    const result = await fn(request);
    respond({ id, ok: true, result });
  } catch (err) {
    respond({ id, ok: false, error: String(err && err.message ? err.message : err) });
  }
}

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (line.trim() !== '') handle(line);
});
