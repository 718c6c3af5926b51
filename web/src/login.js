// The log-in page's logic (insomnia-wire.md §2.4 + §3): SRP log-in, then the box hand-off to
// the app: seal {"token": hex(K), "key": SEC_PWD_Enc} to the app's X25519 key (loginKey).

import {
  SrpClient,
  decryptAES,
  deriveKey,
  fromBase64,
  fromHex,
  sanitizeEmail,
  sanitizePassphrase,
  sealBox,
  toBase64,
  toHex,
  utf8,
} from './appcrypto.js';
import { request } from './http.js';

/** The deep link the app registers; the code is percent-encoded (`+`, `/`, `=`). */
export const DEEP_LINK_PREFIX = 'insomnia://app/auth/finish?box=';

/**
 * The app's public key from the page's query string (`location.search`, with or without `?`).
 * The app double-encodes it (§3 step 2): URLSearchParams undoes one layer, decodeURIComponent
 * the other (a no-op on a singly-encoded or raw key). Returns standard padded base64 of 32 bytes.
 */
export function parseLoginKey(search) {
  const params = new URLSearchParams(typeof search === 'string' ? search : '');
  const raw = params.get('loginKey');
  if (raw === null || raw === '') {
    throw new Error('This page needs the loginKey the Insomnia app sends: start the log-in from the app.');
  }
  let key;
  try {
    // A '+' that reached URLSearchParams unencoded became a space; base64 has no spaces.
    key = decodeURIComponent(raw).replace(/ /g, '+');
  } catch {
    throw new Error('The loginKey in this link is malformed (bad percent-encoding): start the log-in from the app again.');
  }
  let bytes;
  try {
    bytes = fromBase64(key, 'loginKey');
  } catch {
    throw new Error('The loginKey in this link is not a base64 key: start the log-in from the app again.');
  }
  if (bytes.length !== 32) {
    throw new Error(`The loginKey in this link is ${bytes.length} bytes, not a 32-byte key: start the log-in from the app again.`);
  }
  return key;
}

/**
 * SRP log-in (§2.4). Returns {token: hex(K), email, whoami}; throws on wrong credentials or a
 * server that cannot prove it holds the verifier.
 */
export async function srpLogIn({ api, fetch, email: rawEmail, passphrase: rawPassphrase }) {
  const http = { api, fetch };
  const email = sanitizeEmail(rawEmail);
  const passphrase = sanitizePassphrase(rawPassphrase);
  if (!email) throw new Error('Enter your e-mail.');
  if (!passphrase) throw new Error('Enter your passphrase.');

  const { saltKey, saltAuth } = await request(http, 'POST', '/auth/login-s', { email });
  const authSecret = await deriveKey(passphrase, email, saltKey);
  const client = await SrpClient.create(fromHex(saltAuth, 'saltAuth'), utf8(email), fromHex(authSecret));
  const { sessionStarterId, srpB } = await request(http, 'POST', '/auth/login-a', {
    srpA: toHex(client.A),
    email,
  });
  if (typeof srpB !== 'string' || srpB.length !== 512) throw new Error("the server's SRP B is not 512 hex");
  const { M1, K } = await client.setB(fromHex(srpB, 'srpB'));
  const { srpM2 } = await request(http, 'POST', '/auth/login-m1', {
    srpM1: toHex(M1),
    sessionStarterId,
    useCookies: false,
  });
  client.checkM2(fromHex(srpM2, 'srpM2'));
  const token = toHex(K);
  const whoami = await request(http, 'GET', '/auth/whoami', undefined, token);
  return { token, email, passphrase, whoami };
}

/**
 * The whole page: log in, derive SEC_PWD_Enc from whoami's saltEnc (the salt the app and the
 * CLI unwrap encSymmetricKey with), check it opens encSymmetricKey (so the app will accept the
 * code), and seal {"token","key"} to `loginKey` (standard base64, see parseLoginKey).
 * `onProgress(step)` is told each step as it starts: 'srp' (the log-in proof), 'unlock' (the
 * account key), 'seal' (the code for the app).
 * Returns {box (standard base64), deepLink, accountId, email}.
 */
export async function logIn({ api, fetch, email, passphrase, loginKey, onProgress = () => {} }) {
  const recipient = fromBase64(loginKey, 'loginKey');
  if (recipient.length !== 32) throw new Error('loginKey is not a 32-byte key');
  onProgress('srp');
  const session = await srpLogIn({ api, fetch, email, passphrase });
  onProgress('unlock');
  const { whoami, token } = session;
  if (!whoami || !whoami.encSymmetricKey || !whoami.saltEnc) {
    throw new Error('the server answered whoami without the account keys');
  }
  const key = await deriveKey(session.passphrase, session.email, whoami.saltEnc);
  try {
    JSON.parse(await decryptAES(key, JSON.parse(whoami.encSymmetricKey)));
  } catch {
    throw new Error("the passphrase does not unlock this account's keys");
  }
  onProgress('seal');
  const box = toBase64(sealBox(utf8(JSON.stringify({ token, key })), recipient));
  return {
    box,
    deepLink: DEEP_LINK_PREFIX + encodeURIComponent(box),
    accountId: whoami.accountId,
    email: whoami.email,
  };
}
