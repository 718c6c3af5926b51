// Issue 12: a server whose sign-up is invite-only (`hypnos server --signup invite-only`). The
// sign-up page opened from an operator's link (`hypnos admin signup-link`, `?invite=TOKEN`)
// sends the token and creates the account; without it the server refuses with its reason; a
// link works once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { inviteTokenFrom, signUp, signUpBody } from '../src/signup.js';
import { startServer } from './support.mjs';
import { fakePage, waitFor } from './fake-dom.mjs';

const web = (path) => new URL(`../${path}`, import.meta.url);
let hypnos;

before(async () => {
  hypnos = await startServer(['--signup', 'invite-only']);
});

after(() => hypnos && hypnos.stop());

/** `hypnos admin signup-link --json` on the test server's database: {url, token, …}. */
async function signupLink(...args) {
  const database = `sqlite://${join(hypnos.dir, 'db.sqlite')}?mode=rwc`;
  const out = await hypnos.cli(['--json', 'admin', 'signup-link', '--database', database, ...args], {
    HYPNOS_PUBLIC_URL: hypnos.api,
  });
  return JSON.parse(out);
}

test('inviteTokenFrom reads the link\'s invite parameter', () => {
  assert.equal(inviteTokenFrom('?invite=ab12'), 'ab12');
  assert.equal(inviteTokenFrom('?loginKey=x&invite=%20ab12%20'), 'ab12');
  assert.equal(inviteTokenFrom('?invite='), null);
  assert.equal(inviteTokenFrom(''), null);
});

test('the body carries inviteToken only when there is one (the app never sends it)', async () => {
  const plain = await signUpBody({ email: 'a@example.com', passphrase: 'p' });
  assert.equal('inviteToken' in plain, false);
  const invited = await signUpBody({ email: 'a@example.com', passphrase: 'p', inviteToken: 'ab12' });
  assert.equal(invited.inviteToken, 'ab12');
});

test('without a link the server refuses; with one the account is made, once', async () => {
  const api = hypnos.api;
  await assert.rejects(
    signUp({ api, email: 'lib@example.com', passphrase: 'lib pass' }),
    (err) => err.status === 403 && err.code === 'SIGNUP_INVITE_REQUIRED',
  );
  const link = await signupLink();
  assert.ok(link.url.startsWith(`${api}/app/auth-app/signup.html?invite=`), link.url);
  const inviteToken = inviteTokenFrom(new URL(link.url).search);
  assert.equal(inviteToken, link.token);
  const created = await signUp({ api, email: 'lib@example.com', passphrase: 'lib pass', inviteToken });
  assert.match(created.accountId, /^acct_/);
  await assert.rejects(
    signUp({ api, email: 'again@example.com', passphrase: 'again pass', inviteToken }),
    (err) => err.status === 403 && err.code === 'SIGNUP_INVITE_INVALID',
  );
});

// The page refuses passphrases zxcvbn scores under "good" (strength.js).
const PAGE_PASSPHRASE = 'orbit velvet pumpkin harbour';

test('the bundled sign-up page opened from the operator\'s link sends its token', async () => {
  const link = await signupLink('--email', 'page@example.com');
  const page = fakePage(web('dist/signup.html'), { origin: hypnos.api, search: new URL(link.url).search });
  await import(`${web('dist/signup.js').href}?run=invite`);
  page.get('email').value = 'page@example.com';
  page.get('passphrase').value = PAGE_PASSPHRASE;
  page.get('passphrase-again').value = PAGE_PASSPHRASE;
  await page.get('signup-form').fire('submit');
  await waitFor(() => !page.get('done').hidden || !page.get('error').hidden, 'the sign-up');
  assert.equal(page.get('error').textContent, '');
  assert.equal(page.get('done').hidden, false);
  // The account logs in (through the CLI, as a user would next).
  const home = join(hypnos.dir, 'page-user');
  const who = await hypnos.cli(['--json', 'login', '--email', 'page@example.com'], {
    HYPNOS_HOME: home,
    HYPNOS_PASSPHRASE: PAGE_PASSPHRASE,
    HYPNOS_KEYRING: 'off',
  });
  assert.match(who, /page@example.com/);
});
