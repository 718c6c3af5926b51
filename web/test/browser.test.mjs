// The pages as `hypnos server` serves them, in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): sign up in the page, log in with the public half of a test X25519
// pair as the app would, open the code with the secret half, and call whoami with the token;
// screenshots of both pages are taken and checked (a real rendering, not a blank page), and no
// Content-Security-Policy violation is reported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import nacl from 'tweetnacl';
import { chromium } from 'playwright-core';

import * as c from '../src/appcrypto.js';
import { DEEP_LINK_PREFIX } from '../src/login.js';
import { startServer } from './support.mjs';

const CHROMIUM = '/usr/bin/chromium';
// The machine notes' flags: no sandbox as root, and no background traffic to the closed network.
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const VIEWPORT = { width: 800, height: 900 };

let hypnos;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
  }
  hypnos = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  if (browser) await browser.close();
  if (hypnos) hypnos.stop();
});

/** A PNG of the viewport's size that is no blank page (a uniform page compresses to ~1 KB). */
function checkScreenshot(png, what) {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${what}: a PNG`);
  assert.equal(png.readUInt32BE(16), VIEWPORT.width, `${what}: width`);
  assert.equal(png.readUInt32BE(20), VIEWPORT.height, `${what}: height`);
  assert.ok(png.length > 8000, `${what}: ${png.length} bytes is a blank page`);
}

/** What the app does with the code: open the box, whoami with the token, unwrap the keys. */
async function absorb(code, app) {
  const opened = c.sealOpen(c.fromBase64(code), app.publicKey, app.secretKey);
  assert.ok(opened, 'the code opens with the app secret key');
  const { token, key } = JSON.parse(c.utf8Decode(opened));
  const response = await fetch(`${hypnos.api}/auth/whoami`, { headers: { 'X-Session-Id': token } });
  assert.equal(response.status, 200);
  const whoami = await response.json();
  const accountKey = JSON.parse(await c.decryptAES(key, JSON.parse(whoami.encSymmetricKey)));
  const privateKey = JSON.parse(await c.decryptAES(accountKey, JSON.parse(whoami.encPrivateKey)));
  assert.equal(privateKey.n, JSON.parse(whoami.publicKey).n);
  return whoami;
}

async function newPage(violations) {
  const page = await browser.newPage({ viewport: VIEWPORT });
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => violations.push(String(error)));
  return page;
}

/** The code the page shows once it is done. */
async function codeOf(page) {
  await page.waitForFunction(() => document.querySelector('#code')?.value?.length > 40, null, {
    timeout: 60000,
  });
  return page.inputValue('#code');
}

test('sign up and log in in the browser; the app opens the code and is logged in', async () => {
  const violations = [];
  const app = nacl.box.keyPair();
  // As the app opens it: the key percent-encoded, then set through URLSearchParams.
  const query = new URLSearchParams({ loginKey: encodeURIComponent(c.toBase64(app.publicKey)) });
  const email = 'browser@example.com';
  const passphrase = 'a passphrase typed in a browser';

  // Sign-up page: rendered, filled, submitted; it logs in and shows the code.
  const signup = await newPage(violations);
  await signup.goto(`${hypnos.api}/app/auth-app/signup.html?${query}`);
  await signup.waitForSelector('#signup-form');
  checkScreenshot(await signup.screenshot(), 'sign-up page');
  await signup.fill('#email', email);
  await signup.fill('#first-name', 'Brow');
  await signup.fill('#last-name', 'Ser');
  await signup.fill('#passphrase', passphrase);
  await signup.fill('#passphrase-again', passphrase);
  await signup.click('#signup-form button[type=submit]');
  const first = await absorb(await codeOf(signup), app);
  assert.equal(first.email, email);
  assert.equal(first.firstName, 'Brow');

  // Log-in page, as the app opens it (`/app/auth-app/?loginKey=…`).
  const login = await newPage(violations);
  await login.goto(`${hypnos.api}/app/auth-app/?${query}`);
  await login.waitForSelector('#login-form');
  const loginShot = await login.screenshot();
  checkScreenshot(loginShot, 'log-in page');
  await login.fill('#email', email);
  await login.fill('#passphrase', passphrase);
  await login.click('#login-form button[type=submit]');
  const code = await codeOf(login);
  const again = await absorb(code, app);
  assert.equal(again.accountId, first.accountId);
  // The key is good only while that app runs: the page says what to do when it is stale.
  assert.match((await login.innerText('#expiry')).replace(/\s+/g, ' '), /start the log-in from the app again/);
  const href = await login.getAttribute('#open-app', 'href');
  assert.equal(href, DEEP_LINK_PREFIX + encodeURIComponent(code));
  const done = await login.screenshot();
  checkScreenshot(done, 'log-in page with the code');
  assert.notDeepEqual(done, loginShot, 'the hand-off is shown');

  // The account made in the browser logs in with the command line.
  const home = { HYPNOS_HOME: `${hypnos.dir}/cli-home`, HYPNOS_PASSPHRASE: passphrase, HYPNOS_KEYRING: 'off' };
  await hypnos.cli(['login', '--email', email], home);
  const me = JSON.parse(await hypnos.cli(['--json', 'whoami'], home));
  assert.equal(me.accountId, first.accountId);

  // And the reverse: an account made by `hypnos signup` logs in through the page.
  const cliEmail = 'made-by-cli@example.com';
  const cliHome = { HYPNOS_HOME: `${hypnos.dir}/cli-made`, HYPNOS_PASSPHRASE: 'made on the command line', HYPNOS_KEYRING: 'off' };
  const made = JSON.parse(await hypnos.cli(['--json', 'signup', '--email', cliEmail], cliHome));
  const viaPage = await newPage(violations);
  await viaPage.goto(`${hypnos.api}/app/auth-app/?${query}`);
  await viaPage.fill('#email', cliEmail);
  await viaPage.fill('#passphrase', 'made on the command line');
  await viaPage.click('#login-form button[type=submit]');
  assert.equal((await absorb(await codeOf(viaPage), app)).accountId, made.id);

  // A wrong passphrase is said on the page, and no code appears.
  const wrong = await newPage(violations);
  await wrong.goto(`${hypnos.api}/app/auth-app/?${query}`);
  await wrong.fill('#email', email);
  await wrong.fill('#passphrase', 'not the passphrase');
  await wrong.click('#login-form button[type=submit]');
  await wrong.waitForSelector('#error:not([hidden])', { timeout: 60000 });
  assert.equal(await wrong.inputValue('#code'), '');

  assert.deepEqual(violations, []);
});

test('a malformed loginKey is explained on the page', async () => {
  const violations = [];
  const page = await newPage(violations);
  await page.goto(`${hypnos.api}/app/auth-app/?loginKey=not-a-key`);
  await page.waitForSelector('#error:not([hidden])');
  const said = await page.textContent('#error');
  assert.match(said, /log-?in key|loginKey|Insomnia/i);
  checkScreenshot(await page.screenshot(), 'log-in page with a bad key');
  assert.deepEqual(violations, []);
});
