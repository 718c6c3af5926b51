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

/** Builds the POST /auth/signup body (exported for tests). */
export async function signUpBody({ email: rawEmail, firstName = '', lastName = '', passphrase: rawPassphrase }) {
  const email = sanitizeEmail(rawEmail);
  const passphrase = sanitizePassphrase(rawPassphrase);
  if (!email) throw new Error('Enter your e-mail.');
  if (!passphrase) throw new Error('Choose a passphrase.');
  const saltEnc = randomHex32();
  const saltAuth = randomHex32();
  const saltKey = randomHex32();
  const [authSecret, encKey, { publicKey, privateKey }, symmetricKey] = await Promise.all([
    deriveKey(passphrase, email, saltKey),
    deriveKey(passphrase, email, saltEnc),
    generateRSAKeypair(),
    generateAES256Key(),
  ]);
  const verifier = await computeVerifier(saltAuth, email, authSecret);
  const encSymmetricKey = JSON.stringify(await encryptAES(encKey, stringifySortedMembers(symmetricKey)));
  const encPrivateKey = JSON.stringify(await encryptAES(symmetricKey, stringifySortedMembers(privateKey)));
  return {
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
}

/** Creates the account. Returns the server's answer ({accountId, personalOrganizationId}). */
export async function signUp({ api, fetch, email, firstName, lastName, passphrase }) {
  const body = await signUpBody({ email, firstName, lastName, passphrase });
  return request({ api, fetch }, 'POST', '/auth/signup', body);
}
