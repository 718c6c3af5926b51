// The Insomnia app's account crypto for Hypnos's browser pages: WebCrypto (globalThis.crypto)
// for hashing, HKDF, PBKDF2, AES-GCM and RSA-OAEP; BigInt for SRP; tweetnacl + blakejs for the
// sealed box. Works unchanged in a browser and in Node 20.
//
// Formats follow insomnia-wire.md §1 (AES message, JWKs, RSA-OAEP-256, deriveKey), §2.3 (the
// srp-js 0.2.1 SRP-6a flavour) and §3 (libsodium crypto_box_seal), and agree byte for byte with
// interop/app-crypto.js (node-forge, srp-js, hkdf) and crates/crypto.

import nacl from 'tweetnacl';
import blake from 'blakejs';

const subtle = () => {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error('this browser has no WebCrypto (crypto.subtle): use a current browser over HTTPS or localhost');
  return s;
};

export const PBKDF2_ROUNDS = 100000;
const KEY_BYTES = 32;

// ---------------------------------------------------------------- encodings

const encoder = new TextEncoder();

export function utf8(text) {
  return encoder.encode(text);
}

export function utf8Decode(bytes) {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function toHex(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const byte of view) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(hex, what = 'value') {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`${what} is not hex`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Standard, padded base64 (what the app uses for its box keys and the login code). */
export function toBase64(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Strict standard padded base64 → bytes; throws on anything else. */
export function fromBase64(text, what = 'value') {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new Error(`${what} is not standard base64`);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Reject non-canonical encodings (stray bits in the last character).
  if (toBase64(out) !== text) throw new Error(`${what} is not canonical base64`);
  return out;
}

function base64UrlToBytes(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function randomBytes(n) {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/** The app's getRandomHex(): 32 random bytes as 64 lowercase hex. */
export function randomHex32() {
  return toHex(randomBytes(32));
}

export async function sha256(...parts) {
  return new Uint8Array(await subtle().digest('SHA-256', concat(...parts)));
}

/** JSON.stringify with members inserted in name order, as Chromium's WebCrypto exports JWKs. */
export function stringifySortedMembers(object) {
  const sorted = {};
  for (const key of Object.keys(object).sort()) sorted[key] = object[key];
  return JSON.stringify(sorted);
}

// ---------------------------------------------------------------- sanitising (§1.4)

// String.prototype.trim is the app's trim: JavaScript whitespace (incl. BOM, not NEL), exactly
// what crates/crypto/src/kdf.rs js_trim re-creates.
export function sanitizeEmail(email) {
  return String(email).trim().toLowerCase();
}

export function sanitizePassphrase(passphrase) {
  return String(passphrase).trim().normalize('NFKD');
}

// ---------------------------------------------------------------- deriveKey (§1.4)

/** Step 1: HKDF-SHA256, salt = the salt string's UTF-8 bytes (hex text), IKM = e-mail, no info. */
export async function hkdfSalt(saltText, email) {
  if (!saltText) throw new Error('salt is empty');
  const ikm = await subtle().importKey('raw', utf8(email), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8(saltText), info: new Uint8Array(0) },
    ikm,
    KEY_BYTES * 8,
  );
  return toHex(bits);
}

/** Step 2: PBKDF2-HMAC-SHA256 over the passphrase's UTF-8 bytes, 100,000 rounds, 32 bytes. */
export async function pbkdf2(passphrase, saltHex) {
  const key = await subtle().importKey('raw', utf8(passphrase), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: fromHex(saltHex, 'HKDF output'), iterations: PBKDF2_ROUNDS },
    key,
    KEY_BYTES * 8,
  );
  return toHex(bits);
}

/** deriveKey(passphrase, email, salt) → 64 hex. Callers pass sanitised inputs (as the app does). */
export async function deriveKey(passphrase, email, saltHex) {
  return pbkdf2(passphrase, await hkdfSalt(saltHex, email));
}

// ---------------------------------------------------------------- AES-256-GCM (§1.1)

/** The app's key argument: a hex string (raw key) or a JWK (its `k`, base64url). */
function aesKeyBytes(key) {
  const bytes = typeof key === 'string' ? fromHex(key, 'AES key') : base64UrlToBytes((key && key.k) || '');
  if (bytes.length !== KEY_BYTES) throw new Error(`AES key is ${bytes.length} bytes, expected ${KEY_BYTES}`);
  return bytes;
}

async function importAes(key, usage) {
  return subtle().importKey('raw', aesKeyBytes(key), 'AES-GCM', false, [usage]);
}

/** Seals raw bytes → {iv, t, ad, d} (lowercase hex). `options.iv` is for test vectors only. */
export async function aesSealBytes(key, plaintext, { ad = new Uint8Array(0), iv = randomBytes(12) } = {}) {
  const sealed = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv, additionalData: ad, tagLength: 128 },
      await importAes(key, 'encrypt'),
      plaintext,
    ),
  );
  const split = sealed.length - 16;
  return { iv: toHex(iv), t: toHex(sealed.subarray(split)), ad: toHex(ad), d: toHex(sealed.subarray(0, split)) };
}

/** Opens an AESMessage to raw bytes; throws 'Failed to decrypt data' on a bad key or tag. */
export async function aesOpenBytes(key, message) {
  if (!message || typeof message !== 'object') throw new Error('not an AES message');
  const tag = fromHex(message.t, 't');
  let opened;
  try {
    opened = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: fromHex(message.iv, 'iv'),
        additionalData: fromHex(message.ad || '', 'ad'),
        tagLength: tag.length * 8,
      },
      await importAes(key, 'decrypt'),
      concat(fromHex(message.d, 'd'), tag),
    );
  } catch (err) {
    throw new Error('Failed to decrypt data');
  }
  return new Uint8Array(opened);
}

/** The app's encryptAES (string API): the text travels percent-encoded under GCM. */
export async function encryptAES(key, text, options) {
  return aesSealBytes(key, utf8(encodeURIComponent(text)), options);
}

/** The app's decryptAES: GCM, then decodeURIComponent. */
export async function decryptAES(key, message) {
  return decodeURIComponent(utf8Decode(await aesOpenBytes(key, message)));
}

// ---------------------------------------------------------------- keys (§1.2, §1.3)

/** The app's generateAES256Key: an extractable AES-GCM-256 key as a JWK (member order as Chromium). */
export async function generateAES256Key() {
  const key = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  return JSON.parse(stringifySortedMembers(await subtle().exportKey('jwk', key)));
}

/** RSA-OAEP-256 2048-bit pair as {publicKey, privateKey} JWK objects with members in name order. */
export async function generateRSAKeypair() {
  const pair = await subtle().generateKey(
    { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['encrypt', 'decrypt'],
  );
  const [publicKey, privateKey] = await Promise.all([
    subtle().exportKey('jwk', pair.publicKey),
    subtle().exportKey('jwk', pair.privateKey),
  ]);
  return {
    publicKey: JSON.parse(stringifySortedMembers(publicKey)),
    privateKey: JSON.parse(stringifySortedMembers(privateKey)),
  };
}

/** The app's encryptRSAWithJWK: encodeURIComponent(text) under RSA-OAEP-256 → lowercase hex. */
export async function rsaEncrypt(jwk, text) {
  if (jwk.alg !== 'RSA-OAEP-256') throw new Error('Public key algorithm was not RSA-OAEP-256');
  if (jwk.kty !== 'RSA') throw new Error('Public key type was not RSA');
  if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('encrypt')) {
    throw new Error('Public key does not have "encrypt" op');
  }
  if (!jwk.n || !jwk.e) throw new Error('Public key is missing parameters');
  const key = await subtle().importKey(
    'jwk',
    { kty: 'RSA', alg: 'RSA-OAEP-256', n: jwk.n, e: jwk.e, ext: true, key_ops: ['encrypt'] },
    { name: 'RSA-OAEP', hash: 'SHA-256' },
    false,
    ['encrypt'],
  );
  return toHex(await subtle().encrypt({ name: 'RSA-OAEP' }, key, utf8(encodeURIComponent(text))));
}

/** The app's decryptRSAWithJWK. */
export async function rsaDecrypt(jwk, hex) {
  for (const member of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']) {
    if (!jwk[member]) throw new Error('Private key is missing parameters');
  }
  const { n, e, d, p, q, dp, dq, qi } = jwk;
  const key = await subtle().importKey(
    'jwk',
    { kty: 'RSA', alg: 'RSA-OAEP-256', n, e, d, p, q, dp, dq, qi, ext: true, key_ops: ['decrypt'] },
    { name: 'RSA-OAEP', hash: 'SHA-256' },
    false,
    ['decrypt'],
  );
  const plain = await subtle().decrypt({ name: 'RSA-OAEP' }, key, fromHex(hex, 'RSA ciphertext'));
  return decodeURIComponent(utf8Decode(new Uint8Array(plain)));
}

// ---------------------------------------------------------------- SRP-6a, srp-js flavour (§2.3)

/** RFC 5054 Appendix A 2048-bit group, g = 2, H = SHA-256 (srp-js params['2048']). */
export const SRP_N = BigInt(
  '0x' +
    'AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E075' +
    '7767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE8' +
    '2918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A' +
    '23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA' +
    '032CFBDBF52FB37861602790' +
    '04E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE4' +
    '35DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73',
);
export const SRP_G = 2n;
export const SRP_LEN = 256;

export function bytesToBigInt(bytes) {
  return bytes.length ? BigInt('0x' + toHex(bytes)) : 0n;
}

/** PAD(): big-endian, left-zero-padded to 256 bytes. */
export function pad(n) {
  const hex = n.toString(16);
  if (hex.length > SRP_LEN * 2) throw new Error('SRP value is longer than N');
  return fromHex(hex.padStart(SRP_LEN * 2, '0'));
}

export function modPow(base, exponent, modulus) {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    if (e > 0n) b = (b * b) % modulus;
  }
  return result;
}

/** k = H(PAD(N) ‖ PAD(g)). */
export async function srpK() {
  return bytesToBigInt(await sha256(pad(SRP_N), pad(SRP_G)));
}

/** x = H(s ‖ H(I ‖ ":" ‖ P)), s/I/P raw bytes. */
export async function srpX(salt, identity, password) {
  return bytesToBigInt(await sha256(salt, await sha256(identity, utf8(':'), password)));
}

/** The sign-up verifier: hex(PAD(g^x mod N)), 512 hex. saltAuthHex and authSecretHex as stored. */
export async function computeVerifier(saltAuthHex, email, authSecretHex) {
  const x = await srpX(fromHex(saltAuthHex, 'saltAuth'), utf8(email), fromHex(authSecretHex, 'authSecret'));
  return toHex(pad(modPow(SRP_G, x, SRP_N)));
}

/**
 * The client half of srp-js 0.2.1's Client: new SrpClient(salt, I, P, a) → .A (bytes),
 * await .setB(B) → {M1, K, M2}; .checkM2(m2) throws unless the server proved the verifier.
 */
export class SrpClient {
  /** saltAuth, identity, password: Uint8Array; secretA: 32 random bytes unless given (tests). */
  static async create(salt, identity, password, secretA = randomBytes(32)) {
    const client = new SrpClient();
    client.k = await srpK();
    client.x = await srpX(salt, identity, password);
    client.a = bytesToBigInt(secretA);
    client.A = pad(modPow(SRP_G, client.a, SRP_N));
    return client;
  }

  async setB(bBytes) {
    if (!(bBytes instanceof Uint8Array) || bBytes.length !== SRP_LEN) {
      throw new Error(`the server's SRP B is not ${SRP_LEN} bytes`);
    }
    const B = bytesToBigInt(bBytes);
    if (B <= 0n || B >= SRP_N) throw new Error("invalid server-supplied 'B', must be 1..N-1");
    this.u = bytesToBigInt(await sha256(this.A, bBytes));
    const base = B - ((this.k * modPow(SRP_G, this.x, SRP_N)) % SRP_N);
    this.S = pad(modPow(base, this.a + this.u * this.x, SRP_N));
    this.K = await sha256(this.S);
    this.M1 = await sha256(this.A, bBytes, this.S);
    this.M2 = await sha256(this.A, this.M1, this.K);
    return { M1: this.M1, K: this.K };
  }

  checkM2(serverM2) {
    if (!this.M2) throw new Error('incomplete protocol');
    let diff = serverM2.length ^ this.M2.length;
    for (let i = 0; i < this.M2.length; i++) diff |= this.M2[i] ^ (serverM2[i] ?? 0);
    if (diff !== 0) throw new Error('the server could not prove it knows this account (SRP M2 mismatch)');
  }
}

// ---------------------------------------------------------------- sealed box (§3 step 4)

function sealNonce(ephemeralPk, recipientPk) {
  return blake.blake2b(concat(ephemeralPk, recipientPk), undefined, nacl.box.nonceLength);
}

/**
 * libsodium crypto_box_seal: epk ‖ crypto_box(msg, BLAKE2b-192(epk ‖ pk), pk, esk). The ephemeral
 * secret is fresh unless given (test vectors only) and is wiped afterwards either way.
 */
export function sealBox(message, recipientPk, ephemeralSecret = randomBytes(32)) {
  if (!(recipientPk instanceof Uint8Array) || recipientPk.length !== nacl.box.publicKeyLength) {
    throw new Error('the recipient public key is not 32 bytes');
  }
  const ephemeral = nacl.box.keyPair.fromSecretKey(ephemeralSecret);
  const boxed = nacl.box(message, sealNonce(ephemeral.publicKey, recipientPk), recipientPk, ephemeral.secretKey);
  ephemeral.secretKey.fill(0);
  ephemeralSecret.fill(0);
  return concat(ephemeral.publicKey, boxed);
}

/** libsodium crypto_box_seal_open; null if the box does not open. */
export function sealOpen(box, recipientPk, recipientSk) {
  if (box.length < nacl.box.publicKeyLength + nacl.box.overheadLength) return null;
  const epk = box.subarray(0, nacl.box.publicKeyLength);
  return nacl.box.open(
    box.subarray(nacl.box.publicKeyLength),
    sealNonce(epk, recipientPk),
    epk,
    recipientSk,
  );
}
