// The pages as `hypnos server` serves them, in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): sign up in the page, log in with the public half of a test X25519
// pair as the app would, open the code with the secret half, and call whoami with the token;
// screenshots of both pages are taken and checked (a real rendering, not a blank page), and no
// Content-Security-Policy violation is reported. Every state the pages reach (log-in, sign-up,
// a provider this server lacks, errors at fields and in the banner, the hand-off, dark scheme,
// a 360 px phone) is checked with axe-core for accessibility violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
const PHONE = { width: 360, height: 740 };
// Markup in the operator's name must come out as text.
const SERVER_NAME = 'Acme <b>API</b> & "sync"';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let hypnos;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
  }
  hypnos = await startServer(['--server-name', SERVER_NAME]);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  if (browser) await browser.close();
  if (hypnos) hypnos.stop();
});

/** A PNG of the viewport's size that is no blank page (a uniform page compresses to ~1 KB). */
function checkScreenshot(png, what, viewport = VIEWPORT) {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${what}: a PNG`);
  assert.equal(png.readUInt32BE(16), viewport.width, `${what}: width`);
  assert.equal(png.readUInt32BE(20), viewport.height, `${what}: height`);
  assert.ok(png.length > 8000, `${what}: ${png.length} bytes is a blank page`);
}

/**
 * axe-core on the page as it is now: no violation of any rule (WCAG 2.x A/AA and best
 * practices), and no text whose colour contrast axe could not measure (it cannot over a
 * gradient or an image), so that contrast is checked everywhere. axe is evaluated through the
 * DevTools protocol, which the page's Content-Security-Policy does not govern: the policy stays on.
 */
async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const { violations, unmeasured } = await page.evaluate(async () => {
    const result = await window.axe.run(document);
    const list = (items) => items.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    return {
      violations: list(result.violations),
      unmeasured: list(result.incomplete.filter((v) => v.id === 'color-contrast')),
    };
  });
  assert.deepEqual(violations, [], `axe: ${what}`);
  assert.deepEqual(unmeasured, [], `axe, contrast not measurable: ${what}`);
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

async function newPage(violations, options = {}) {
  const page = await browser.newPage({ viewport: VIEWPORT, ...options });
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

/** The query the app opens the page with: the key percent-encoded, then set through URLSearchParams. */
function appQuery(app, extra = {}) {
  return new URLSearchParams({ loginKey: encodeURIComponent(c.toBase64(app.publicKey)), source_origin: 'desktop_app', ...extra });
}

/**
 * Records, from now on, every text of #status and every disabled state of the submit button
 * (a MutationObserver sees each change, however short-lived), for `progressSeen`.
 */
async function watchProgress(page) {
  await page.evaluate(() => {
    window.progressSeen = { status: [], disabled: false, bar: false };
    const status = document.getElementById('status');
    const button = document.getElementById('submit');
    const bar = document.getElementById('progress');
    new MutationObserver(() => {
      if (status.textContent) window.progressSeen.status.push(status.textContent);
      if (button.disabled) window.progressSeen.disabled = true;
      if (!bar.hidden) window.progressSeen.bar = true;
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

const STRONG = 'a passphrase typed in a browser';

test('sign up and log in in the browser; the app opens the code and is logged in', async () => {
  const violations = [];
  const app = nacl.box.keyPair();
  const query = appQuery(app);
  const email = 'browser@example.com';

  // Sign-up page: rendered, filled, submitted; it logs in and shows the code.
  const signup = await newPage(violations);
  await signup.goto(`${hypnos.api}/app/auth-app/signup.html?${query}`);
  await signup.waitForSelector('#signup-form');
  checkScreenshot(await signup.screenshot(), 'sign-up page');
  await assertAccessible(signup, 'sign-up page');
  await signup.fill('#email', email);
  await signup.fill('#first-name', 'Brow');
  await signup.fill('#last-name', 'Ser');
  await signup.fill('#passphrase', STRONG);
  await signup.fill('#passphrase-again', STRONG);
  await signup.waitForSelector('#strength[data-score="4"]');
  await assertAccessible(signup, 'sign-up page with the meter');
  await watchProgress(signup);
  await signup.click('#signup-form button[type=submit]');
  const first = await absorb(await codeOf(signup), app);
  assert.equal(first.email, email);
  assert.equal(first.firstName, 'Brow');
  // While keys were made the button was disabled, the bar shown and each step said.
  const seen = await signup.evaluate(() => window.progressSeen);
  assert.equal(seen.disabled, true);
  assert.equal(seen.bar, true);
  for (const step of [/^Step 1 of 4: making your keys/, /^Step 2 of 4: encrypting/, /^Step 3 of 4: creating your account/, /^Step 4 of 4: /]) {
    assert.ok(seen.status.some((text) => step.test(text)), `${step} in ${JSON.stringify(seen.status)}`);
  }
  await assertAccessible(signup, 'sign-up hand-off');

  // Log-in page, as the app opens it (`/app/auth-app/?loginKey=…&source_origin=desktop_app`).
  const login = await newPage(violations);
  await login.goto(`${hypnos.api}/app/auth-app/?${query}`);
  await login.waitForSelector('#login-form');
  const loginShot = await login.screenshot();
  checkScreenshot(loginShot, 'log-in page');
  await assertAccessible(login, 'log-in page');
  await login.fill('#email', email);
  await login.fill('#passphrase', STRONG);
  await watchProgress(login);
  await login.click('#login-form button[type=submit]');
  const code = await codeOf(login);
  const again = await absorb(code, app);
  assert.equal(again.accountId, first.accountId);
  const loginSeen = await login.evaluate(() => window.progressSeen);
  assert.equal(loginSeen.disabled, true);
  assert.ok(loginSeen.status.some((text) => /^Step 1 of 3: proving your passphrase/.test(text)), JSON.stringify(loginSeen.status));
  // The key is good only while that app runs: the page says what to do when it is stale.
  assert.match((await login.innerText('#expiry')).replace(/\s+/g, ' '), /start the log-in from the app again/);
  const href = await login.getAttribute('#open-app', 'href');
  assert.equal(href, DEEP_LINK_PREFIX + encodeURIComponent(code));
  const done = await login.screenshot();
  checkScreenshot(done, 'log-in page with the code');
  assert.notDeepEqual(done, loginShot, 'the hand-off is shown');
  await assertAccessible(login, 'log-in hand-off');

  // The account made in the browser logs in with the command line.
  const home = { HYPNOS_HOME: `${hypnos.dir}/cli-home`, HYPNOS_PASSPHRASE: STRONG, HYPNOS_KEYRING: 'off' };
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

  // A wrong passphrase is said at the passphrase field, and no code appears.
  const wrong = await newPage(violations);
  await wrong.goto(`${hypnos.api}/app/auth-app/?${query}`);
  await wrong.fill('#email', email);
  await wrong.fill('#passphrase', 'not the passphrase');
  await wrong.click('#login-form button[type=submit]');
  await wrong.waitForSelector('#passphrase-error:not([hidden])', { timeout: 60000 });
  assert.match(await wrong.textContent('#passphrase-error'), /Wrong e-mail or passphrase\./);
  assert.equal(await wrong.getAttribute('#passphrase', 'aria-invalid'), 'true');
  assert.equal(await wrong.getAttribute('#passphrase', 'aria-describedby'), 'passphrase-error');
  assert.equal(await wrong.evaluate(() => document.activeElement.id), 'passphrase');
  assert.equal(await wrong.isEnabled('#submit'), true);
  assert.equal(await wrong.inputValue('#code'), '');
  await assertAccessible(wrong, 'log-in with a field error');

  assert.deepEqual(violations, []);
});

test('the operator\'s server name is shown as text, in the title and the heading', async () => {
  const violations = [];
  const page = await newPage(violations);
  await page.goto(`${hypnos.api}/app/auth-app/?${appQuery(nacl.box.keyPair())}`);
  assert.equal(await page.title(), `Log in to ${SERVER_NAME} · Hypnos`);
  assert.equal(await page.textContent('h1'), `Log in to ${SERVER_NAME}`);
  assert.equal(await page.locator('h1 b, .server-badge b, footer b').count(), 0, 'no markup from the name');
  assert.match(await page.textContent('.subtitle'), /Hypnos, a self-hosted Insomnia sync server/);
  const signup = await newPage(violations);
  await signup.goto(`${hypnos.api}/app/auth-app/signup.html`);
  assert.equal(await signup.title(), `Sign up to ${SERVER_NAME} · Hypnos`);
  assert.equal(await signup.textContent('#server-name'), SERVER_NAME);
  assert.deepEqual(violations, []);
});

test('a provider the server lacks (Google, GitHub, SSO) is said, and the e-mail form offered', async () => {
  const violations = [];
  const app = nacl.box.keyPair();
  for (const [provider, said] of [
    ['google', 'Log-in with Google is not available on a self-hosted server.'],
    ['github', 'Log-in with GitHub is not available on a self-hosted server.'],
    ['sso', 'Single sign-on (SSO) is not available on a self-hosted server.'],
  ]) {
    const page = await newPage(violations);
    await page.goto(`${hypnos.api}/app/auth-app/?${appQuery(app, { provider })}`);
    await page.waitForSelector('#provider-notice:not([hidden])');
    assert.equal(await page.textContent('#provider-unavailable'), said);
    assert.equal(await page.isVisible('#login-form'), true);
    assert.equal(await page.isEnabled('#email'), true);
    // The sign-up link keeps the app's parameters, and says the same.
    await page.click('#signup-link');
    await page.waitForSelector('#signup-form');
    assert.match(page.url(), new RegExp(`signup\\.html\\?loginKey=.*&source_origin=desktop_app&provider=${provider}$`));
    assert.match(await page.textContent('#provider-unavailable'), /not available on a self-hosted server/);
    await page.close();
  }
  for (const provider of ['email', '']) {
    const page = await newPage(violations);
    await page.goto(`${hypnos.api}/app/auth-app/?${appQuery(app, provider ? { provider } : {})}`);
    await page.waitForSelector('#login-form');
    assert.equal(await page.isHidden('#provider-notice'), true, provider);
    await page.close();
  }
  const page = await newPage(violations);
  await page.goto(`${hypnos.api}/app/auth-app/?${appQuery(app, { provider: 'google' })}`);
  await page.waitForSelector('#provider-notice:not([hidden])');
  await assertAccessible(page, 'log-in, provider unavailable');
  assert.deepEqual(violations, []);
});

test('sign-up refuses a weak passphrase at its field and sends nothing; the meter follows typing', async () => {
  const violations = [];
  const page = await newPage(violations);
  const requests = [];
  page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
  await page.goto(`${hypnos.api}/app/auth-app/signup.html`);
  await page.fill('#email', 'weakling@example.com');
  await page.fill('#passphrase', 'password');
  await page.waitForSelector('#strength[data-score="0"]');
  assert.match(await page.textContent('#strength-text'), /^Strength: Very weak\./);
  await page.fill('#passphrase', 'weakling2024');
  await page.waitForFunction(() => Number(document.getElementById('strength').dataset.score) < 3);
  await page.fill('#passphrase', 'quartz lantern meadow bicycle');
  await page.waitForSelector('#strength[data-score="4"]');
  assert.equal(await page.textContent('#strength-text'), 'Strength: Strong.');

  await page.fill('#passphrase', 'weakling2024');
  await page.fill('#passphrase-again', 'weakling2024');
  await page.click('#submit');
  await page.waitForSelector('#passphrase-error:not([hidden])');
  assert.match(await page.textContent('#passphrase-error'), /too easy to guess/);
  assert.equal(await page.getAttribute('#passphrase', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#passphrase', 'aria-describedby'), 'passphrase-hint strength-text passphrase-error');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'passphrase');
  assert.equal(await page.isHidden('#error'), true);
  assert.deepEqual(requests.filter((r) => r.includes('/auth/')), [], 'nothing sent');
  await assertAccessible(page, 'sign-up with a weak passphrase refused');

  // An e-mail that has an account: the server's refusal at the e-mail field.
  await page.fill('#email', 'browser@example.com');
  await page.fill('#passphrase', 'quartz lantern meadow bicycle');
  await page.fill('#passphrase-again', 'quartz lantern meadow bicycle');
  await page.click('#submit');
  await page.waitForSelector('#email-error:not([hidden])', { timeout: 60000 });
  assert.match(await page.textContent('#email-error'), /An account with this e-mail exists/);
  assert.equal(await page.isHidden('#passphrase-error'), true);
  assert.equal(await page.getAttribute('#passphrase', 'aria-invalid'), null);
  assert.deepEqual(violations, []);
});

test('dark scheme and a 360 px phone: every state is accessible and nothing overflows', async () => {
  const violations = [];
  const app = nacl.box.keyPair();
  for (const [scheme, viewport] of [['dark', VIEWPORT], ['light', PHONE], ['dark', PHONE]]) {
    const what = `${scheme} ${viewport.width}px`;
    const page = await newPage(violations, { viewport });
    await page.emulateMedia({ colorScheme: scheme });
    for (const path of [`?${appQuery(app)}`, `?${appQuery(app, { provider: 'sso' })}`, `signup.html?${appQuery(app)}`, '?loginKey=not-a-key']) {
      await page.goto(`${hypnos.api}/app/auth-app/${path}`);
      await page.waitForSelector('form');
      assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), scheme === 'dark');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${what} ${path}: ${overflow}px wider than the screen`);
      checkScreenshot(await page.screenshot(), `${what} ${path}`, viewport);
      await assertAccessible(page, `${what} ${path}`);
    }
    // The errors shown at the fields, in both pages.
    await page.goto(`${hypnos.api}/app/auth-app/signup.html`);
    await page.fill('#email', 'not an address');
    await page.fill('#passphrase', 'password');
    await page.click('#submit');
    await page.waitForSelector('#passphrase-error:not([hidden])');
    assert.equal(await page.isVisible('#email-error'), true);
    await assertAccessible(page, `${what} sign-up with errors`);
    await page.goto(`${hypnos.api}/app/auth-app/?${appQuery(app)}`);
    await page.click('#submit');
    await page.waitForSelector('#email-error:not([hidden])');
    await assertAccessible(page, `${what} log-in with errors`);
    await page.close();
  }
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
  await assertAccessible(page, 'log-in with a bad key');
  assert.deepEqual(violations, []);
});
