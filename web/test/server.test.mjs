// The page logic against the real server (target/debug/hypnos), and cross-checks with the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import nacl from 'tweetnacl';

import * as c from '../src/appcrypto.js';
import { signUp } from '../src/signup.js';
import { logIn, parseLoginKey, DEEP_LINK_PREFIX } from '../src/login.js';
import { startServer } from './support.mjs';

let hypnos;
let api;
let dir;

const runCli = (args, env) => hypnos.cli(args, env);

function cliEnv(name, passphrase) {
  return { HYPNOS_HOME: join(dir, name), HYPNOS_PASSPHRASE: passphrase, HYPNOS_KEYRING: 'off' };
}

before(async () => {
  hypnos = await startServer();
  ({ api, dir } = hypnos);
});

after(() => hypnos && hypnos.stop());

/** What the app does with a code: open the box, whoami with the token, unwrap the keys. */
async function absorbCode(deepLinkOrBox, app) {
  const code = deepLinkOrBox.startsWith(DEEP_LINK_PREFIX)
    ? decodeURIComponent(deepLinkOrBox.slice(DEEP_LINK_PREFIX.length))
    : deepLinkOrBox;
  const opened = c.sealOpen(c.fromBase64(code), app.publicKey, app.secretKey);
  assert.ok(opened, 'the box opens with the app secret key');
  const { token, key, ...rest } = JSON.parse(c.utf8Decode(opened));
  assert.deepEqual(Object.keys(rest), []);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.match(key, /^[0-9a-f]{64}$/);
  const r = await fetch(`${api}/auth/whoami`, { headers: { 'X-Session-Id': token } });
  assert.equal(r.status, 200);
  const whoami = await r.json();
  const symmetricKey = JSON.parse(await c.decryptAES(key, JSON.parse(whoami.encSymmetricKey)));
  const privateKey = JSON.parse(await c.decryptAES(symmetricKey, JSON.parse(whoami.encPrivateKey)));
  const publicKey = JSON.parse(whoami.publicKey);
  return { token, key, whoami, symmetricKey, privateKey, publicKey };
}

/**
 * What Insomnia 13 does with the box's token and key instead of whoami (insomnia-wire-newer.md
 * §2.2): /v3/users/me and /v3/users/me/encryption-keys at once, the session in `X-Session-ID`
 * (the generated client's spelling), then SYM_Account from `enc_symmetric_key` with the box's
 * key and the private key from `enc_private_key` with that.
 */
async function absorbAsNewestApp(server, token, key) {
  const headers = { 'X-Session-ID': token };
  const [me, keys] = await Promise.all(
    ['/v3/users/me', '/v3/users/me/encryption-keys'].map(async (path) => {
      const r = await fetch(`${server}${path}`, { headers });
      assert.equal(r.status, 200, path);
      return r.json();
    }),
  );
  const symmetricKey = JSON.parse(await c.decryptAES(key, JSON.parse(keys.enc_symmetric_key)));
  const privateKey = JSON.parse(await c.decryptAES(symmetricKey, JSON.parse(keys.enc_private_key)));
  const publicKey = JSON.parse(keys.public_key);
  assert.equal(privateKey.n, publicKey.n, 'the private key is the public key\'s other half');
  return { me, keys, symmetricKey, privateKey, publicKey };
}

for (const database of ['sqlite', 'postgres']) {
  test(`page log-in, then the newest app's bootstrap: /v3 unlocks the same keys as whoami (${database})`, async () => {
    const server = await startServer([], {}, { database });
    try {
      const passphrase = 'a passphrase for the newest app';
      const created = await signUp({ api: server.api, email: 'newest@example.com', firstName: 'New', lastName: 'Est', passphrase });
      const app = nacl.box.keyPair();
      const search = new URLSearchParams({
        loginKey: encodeURIComponent(c.toBase64(app.publicKey)),
        source_origin: 'desktop_app',
      }).toString();
      const result = await logIn({ api: server.api, email: 'newest@example.com', passphrase, loginKey: parseLoginKey(`?${search}`) });
      const opened = c.sealOpen(c.fromBase64(result.box), app.publicKey, app.secretKey);
      const { token, key } = JSON.parse(c.utf8Decode(opened));

      const newest = await absorbAsNewestApp(server.api, token, key);
      assert.equal(newest.me.id, created.accountId);
      assert.equal(newest.me.email, 'newest@example.com');
      assert.equal(newest.me.first_name, 'New');
      assert.equal(newest.me.last_name, 'Est');
      // The same session serves the 10.x app: whoami carries the very same stored strings.
      const r = await fetch(`${server.api}/auth/whoami`, { headers: { 'X-Session-Id': token } });
      const whoami = await r.json();
      assert.equal(whoami.encSymmetricKey, newest.keys.enc_symmetric_key);
      assert.equal(whoami.encPrivateKey, newest.keys.enc_private_key);
      assert.equal(whoami.publicKey, newest.keys.public_key);
      // A made-up session gets the problem answer both of the app's clients read, not keys.
      const refused = await fetch(`${server.api}/v3/users/me/encryption-keys`, { headers: { 'X-Session-ID': 'f'.repeat(64) } });
      assert.equal(refused.status, 401);
      const problem = await refused.json();
      assert.equal(problem.status, 401);
      assert.ok(problem.title && problem.detail && problem.error && problem.message, JSON.stringify(problem));
      assert.equal(problem.enc_symmetric_key, undefined);
    } finally {
      server.stop();
    }
  });
}

test('page sign-up, then page log-in: the box opens to a session whoami accepts and keys that unlock', async () => {
  const email = 'Page.User@Example.com ';
  const passphrase = ' pässphrase for the page ';
  const created = await signUp({ api, email, firstName: 'Page', lastName: 'User', passphrase });
  assert.match(created.accountId, /^acct_/);

  const app = nacl.box.keyPair();
  const search = new URLSearchParams({ loginKey: encodeURIComponent(c.toBase64(app.publicKey)) }).toString();
  const loginKey = parseLoginKey(`?${search}`);
  const result = await logIn({ api, email: 'page.user@example.com', passphrase: 'pässphrase for the page', loginKey });
  assert.equal(result.deepLink, DEEP_LINK_PREFIX + encodeURIComponent(result.box));
  assert.equal(result.accountId, created.accountId);

  const got = await absorbCode(result.deepLink, app);
  assert.equal(got.whoami.email, 'page.user@example.com');
  assert.equal(got.whoami.firstName, 'Page');
  assert.equal(got.whoami.accountId, created.accountId);
  // The stored JWKs have the app's exact shapes.
  assert.match(
    c.stringifySortedMembers(got.symmetricKey),
    /^\{"alg":"A256GCM","ext":true,"k":"[A-Za-z0-9_-]{43}","key_ops":\["encrypt","decrypt"\],"kty":"oct"\}$/,
  );
  assert.equal(got.whoami.publicKey, c.stringifySortedMembers(got.publicKey));
  // The private key is the public key's other half.
  assert.equal(got.privateKey.n, got.publicKey.n);
  assert.equal(got.privateKey.e, got.publicKey.e);
  const secret = 'a project key, say';
  assert.equal(await c.rsaDecrypt(got.privateKey, await c.rsaEncrypt(got.publicKey, secret)), secret);

  // Wrong passphrase: refused with the server's message, no box.
  await assert.rejects(
    logIn({ api, email: 'page.user@example.com', passphrase: 'wrong', loginKey }),
    /wrong e-mail or passphrase/,
  );
  // Unknown e-mail: the same answer.
  await assert.rejects(logIn({ api, email: 'nobody@example.com', passphrase: 'x', loginKey }), /wrong e-mail or passphrase/);
  // Same e-mail again: the server's conflict message.
  await assert.rejects(signUp({ api, email, passphrase }), /an account with this e-mail exists/);
});

test('an account made by the page logs in with the CLI (hypnos login, whoami --json)', async () => {
  const email = 'page-then-cli@example.com';
  const passphrase = 'page made me';
  const created = await signUp({ api, email, firstName: 'Pat', lastName: 'Page', passphrase });
  const env = cliEnv('cli-a', passphrase);
  await runCli(['login', '--email', email], env);
  const who = JSON.parse(await runCli(['whoami', '--json'], env));
  assert.equal(who.accountId, created.accountId, JSON.stringify(who));
  assert.equal(who.email, email);
  assert.equal(who.firstName, 'Pat');
});

test('an account made by the CLI (hypnos signup) logs in through the page logic', async () => {
  const email = 'cli-then-page@example.com';
  const passphrase = 'cli made me';
  await runCli(['signup', '--email', email, '--first-name', 'Cleo'], cliEnv('cli-b', passphrase));
  const app = nacl.box.keyPair();
  const result = await logIn({ api, email, passphrase, loginKey: c.toBase64(app.publicKey) });
  const got = await absorbCode(result.box, app);
  assert.equal(got.whoami.email, email);
  assert.equal(got.whoami.firstName, 'Cleo');
  assert.equal(got.privateKey.n, got.publicKey.n);
});
