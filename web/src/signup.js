// The sign-up page's logic (insomnia-wire.md §2.2): every key is made here; the server gets
// the salts, the SRP verifier, the public key and the wrapped keys, never the passphrase.

import {
  computeVerifier,
  deriveKey,
  encryptAES,
  generateAES256Key,
  generateRSAKeypair,
  randomHex32,
  sanitizeEmail,
  sanitizePassphrase,
  stringifySortedMembers,
} from './appcrypto.js';
import { request } from './http.js';

/**
 * The sign-up token of an operator's sign-up link (`hypnos admin signup-link`): the `invite`
 * parameter of the page's address, or null without one.
 */
export function inviteTokenFrom(search) {
  const token = new URLSearchParams(search).get('invite');
  return token && token.trim() ? token.trim() : null;
}

/**
 * Builds the POST /auth/signup body (exported for tests). `onProgress(step)` is told each step
 * as it starts: 'keys' (the two passphrase-derived keys, the RSA pair, the account key),
 * 'encrypt' (the SRP verifier and the wrapped keys).
 */
export async function signUpBody({
  email: rawEmail,
  firstName = '',
  lastName = '',
  passphrase: rawPassphrase,
  inviteToken = null,
  onProgress = () => {},
}) {
  const email = sanitizeEmail(rawEmail);
  const passphrase = sanitizePassphrase(rawPassphrase);
  if (!email) throw new Error('Enter your e-mail.');
  if (!passphrase) throw new Error('Choose a passphrase.');
  onProgress('keys');
  const saltEnc = randomHex32();
  const saltAuth = randomHex32();
  const saltKey = randomHex32();
  const [authSecret, encKey, { publicKey, privateKey }, symmetricKey] = await Promise.all([
    deriveKey(passphrase, email, saltKey),
    deriveKey(passphrase, email, saltEnc),
    generateRSAKeypair(),
    generateAES256Key(),
  ]);
  onProgress('encrypt');
  const verifier = await computeVerifier(saltAuth, email, authSecret);
  const encSymmetricKey = JSON.stringify(await encryptAES(encKey, stringifySortedMembers(symmetricKey)));
  const encPrivateKey = JSON.stringify(await encryptAES(symmetricKey, stringifySortedMembers(privateKey)));
  const body = {
    email,
    firstName: String(firstName).trim(),
    lastName: String(lastName).trim(),
    saltEnc,
    saltAuth,
    saltKey,
    verifier,
    publicKey: stringifySortedMembers(publicKey),
    encPrivateKey,
    encSymmetricKey,
  };
  // Only a server whose sign-up is invite-only or closed needs it; the app never sends it.
  if (inviteToken) body.inviteToken = inviteToken;
  return body;
}

/**
 * Creates the account. Returns the server's answer ({accountId, personalOrganizationId}).
 * `onProgress` is told signUpBody's steps, then 'send'.
 */
export async function signUp({ api, fetch, email, firstName, lastName, passphrase, inviteToken = null, onProgress = () => {} }) {
  const body = await signUpBody({ email, firstName, lastName, passphrase, inviteToken, onProgress });
  onProgress('send');
  return request({ api, fetch }, 'POST', '/auth/signup', body);
}
