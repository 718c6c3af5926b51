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
const srp = require('srp-js');
const nacl = require('tweetnacl');
const blake = require('blakejs');

// The app's crypto (AES-GCM, RSA-OAEP-256, deriveKey, deterministicStringify), shared with
// sync-client.js.
const {
  SRP_PARAMS,
  hexToBuffer,
  aesSeal,
  aesOpen,
  rsaEncrypt,
  rsaDecrypt,
  hkdfSalt,
  pbkdf2WebCrypto,
  pbkdf2Forge,
  stringifySortedMembers,
  deterministicStringify,
} = require('./app-crypto');

const { subtle } = nodeCrypto.webcrypto;

// ---------------------------------------------------------------- sealed boxes and base64

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
