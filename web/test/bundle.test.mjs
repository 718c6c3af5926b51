// `npm run build` output: self-contained bundles, CSP-clean HTML, and the bundled pages driven
// end to end against the real server through a minimal stand-in DOM (no browser here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';

import * as c from '../src/appcrypto.js';
import { DEEP_LINK_PREFIX } from '../src/login.js';
import { startServer } from './support.mjs';
import { fakePage as fakeDom, waitFor } from './fake-dom.mjs';

const web = (path) => new URL(`../${path}`, import.meta.url);
const read = (path) => readFileSync(web(path), 'utf8');
let hypnos;

before(async () => {
  execFileSync(process.execPath, [fileURLToPath(web('build.mjs'))], { cwd: fileURLToPath(web('')), stdio: 'pipe' });
  hypnos = await startServer();
});

after(() => hypnos && hypnos.stop());

const fakePage = (htmlFile, origin, search) => fakeDom(web(htmlFile), { origin, search });

test('bundles are self-contained and the HTML works under default-src \'self\'', () => {
  for (const page of ['login', 'signup', 'strength']) {
    // The one import left: the sign-up page fetching strength.js, beside it, once it is shown.
    const js = read(`dist/${page}.js`).replace('import(new URL("strength.js",import.meta.url).href)', 'STRENGTH');
    // No module imports, no require of anything, no dynamic code.
    assert.doesNotMatch(js, /(^|[;\s}])import\s*[\w{*"'(]/);
    assert.doesNotMatch(js, /\brequire\(["']/);
    assert.doesNotMatch(js, /\beval\(|new Function\(/);
    assert.doesNotMatch(js, /https?:\/\/(?!www\.w3\.org)/, 'no other origins');
    if (page === 'strength') continue;
    assert.match(js, page === 'signup' ? /STRENGTH/ : /^(?![\s\S]*STRENGTH)/, 'only sign-up loads strength.js');
    // The pages' own code stays small; zxcvbn's dictionaries are in strength.js alone.
    assert.ok(statSync(web(`dist/${page}.js`)).size < 100_000, `${page}.js is small`);

    const html = read(`dist/${page}.html`);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1, 'exactly one script');
    assert.match(scripts[0][1], new RegExp(`src="${page}\\.js"`));
    assert.equal(scripts[0][2].trim(), '', 'no inline script');
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=|javascript:/i, 'no inline style or handlers');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from other origins');
    for (const [, name] of html.matchAll(/<link\b[^>]*href="([^"]+)"/g)) assert.equal(name, 'style.css');
    // Every input has a label.
    for (const [, id] of html.matchAll(/<(?:input|textarea)\b[^>]*\bid="([^"]+)"/g)) {
      assert.match(html, new RegExp(`<label for="${id}"`), `label for #${id}`);
    }
  }
});

function appSearch(app) {
  const url = new URL('http://x/app/auth-app/');
  url.searchParams.set('loginKey', encodeURIComponent(c.toBase64(app.publicKey)));
  return url.search;
}

async function openAndCheck(deepLink, box, app) {
  assert.equal(deepLink, DEEP_LINK_PREFIX + encodeURIComponent(box));
  const opened = c.sealOpen(c.fromBase64(box), app.publicKey, app.secretKey);
  assert.ok(opened);
  const { token } = JSON.parse(c.utf8Decode(opened));
  const r = await fetch(`${hypnos.api}/auth/whoami`, { headers: { 'X-Session-Id': token } });
  assert.equal(r.status, 200);
  return r.json();
}

const STRONG = 'quartz lantern meadow bicycle';

/** Counts the requests the page makes (the bundles use globalThis.fetch). */
function countRequests() {
  const real = globalThis.fetch;
  const seen = [];
  globalThis.fetch = (url, init) => {
    seen.push(String(url));
    return real(url, init);
  };
  return { seen, restore: () => (globalThis.fetch = real) };
}

test('bundled signup.js opened from the app: creates the account and hands off a working code', async () => {
  const app = nacl.box.keyPair();
  const page = fakePage('dist/signup.html', hypnos.api, appSearch(app));
  await import(`${web('dist/signup.js').href}?run=1`);
  page.get('email').value = 'bundle@example.com';
  page.get('first-name').value = 'Bun';
  page.get('last-name').value = 'Dle';
  page.get('passphrase').value = STRONG;
  page.get('passphrase-again').value = STRONG;
  await page.get('signup-form').fire('submit');
  await waitFor(() => !page.get('handoff').hidden || !page.get('error').hidden, 'hand-off or error');
  assert.equal(page.get('error').textContent, '');
  const who = await openAndCheck(page.get('open-app').href, page.get('code').value, app);
  assert.equal(who.email, 'bundle@example.com');
  assert.equal(who.firstName, 'Bun');
  assert.equal(page.get('passphrase').value, '');
  // Done: the progress is gone and the controls work again.
  assert.equal(page.get('progress').hidden, true);
  assert.equal(page.get('status').textContent, '');
  assert.equal(page.get('signup-form').getAttribute('aria-busy'), null);
});

test('bundled signup.js: the meter follows the passphrase; a weak one is refused next to its field and nothing is sent', async () => {
  const page = fakePage('dist/signup.html', hypnos.api, '');
  await import(`${web('dist/signup.js').href}?run=weak`);
  const type = async (id, value) => {
    page.get(id).value = value;
    await page.get(id).fire('input');
  };
  await type('email', 'weakling@example.com');
  await type('first-name', 'Wendy');
  // The strength module comes after the page; the meter says so until it is there.
  await type('passphrase', 'password');
  assert.match(page.get('strength-text').textContent, /^(Checking strength…|Strength: .*)$/);
  await waitFor(() => page.get('strength').getAttribute('data-score') !== '', 'zxcvbn');
  assert.equal(page.get('strength').getAttribute('data-score'), '0');
  assert.match(page.get('strength-text').textContent, /Strength: Very weak\. .*Needs “Good” or better\./);
  // The user's own e-mail counts as known words ('weakling2024' alone scores "good").
  await type('passphrase', 'weakling2024');
  const withName = Number(page.get('strength').getAttribute('data-score'));
  assert.ok(withName < 3, `a passphrase of the user's e-mail scores ${withName}`);
  await type('passphrase', STRONG);
  assert.equal(page.get('strength').getAttribute('data-score'), '4');
  assert.match(page.get('strength-text').textContent, /^Strength: Strong\.$/);
  await type('passphrase', '');
  assert.equal(page.get('strength').getAttribute('data-score'), '');

  const requests = countRequests();
  try {
    for (const weak of ['password', 'weakling2024', 'page pass']) {
      await type('passphrase', weak);
      page.get('passphrase-again').value = weak;
      await page.get('signup-form').fire('submit');
      const error = page.get('passphrase-error');
      assert.equal(error.hidden, false, weak);
      assert.match(error.textContent, /too easy to guess/);
      assert.equal(page.get('passphrase').getAttribute('aria-invalid'), 'true');
      assert.match(page.get('passphrase').getAttribute('aria-describedby'), /\bpassphrase-error\b/);
      assert.match(page.get('passphrase').getAttribute('aria-describedby'), /\bstrength-text\b/);
      assert.equal(page.get('passphrase').focused, true);
      assert.equal(page.get('error').hidden, true, 'not (only) a banner');
    }
  } finally {
    requests.restore();
  }
  assert.deepEqual(requests.seen, [], 'nothing is sent for a weak passphrase');

  // Each mistake is said at its own field; fixing one clears its message.
  await type('email', 'not-an-address');
  await type('passphrase', STRONG);
  page.get('passphrase-again').value = `${STRONG} typo`;
  await page.get('signup-form').fire('submit');
  assert.match(page.get('email-error').textContent, /not an e-mail address/);
  assert.equal(page.get('email').getAttribute('aria-invalid'), 'true');
  assert.equal(page.get('email').focused, true);
  assert.equal(page.get('passphrase-error').hidden, true);
  assert.equal(page.get('passphrase').getAttribute('aria-invalid'), null);
  assert.match(page.get('passphrase-again-error').textContent, /The two passphrases differ/);
});

test('bundled login.js: bad loginKey shows an error and disables the form; good one logs in', async () => {
  let page = fakePage('dist/login.html', hypnos.api, '?loginKey=abc');
  await import(`${web('dist/login.js').href}?run=1`);
  assert.match(page.get('error').textContent, /loginKey/);
  assert.equal(page.get('error').hidden, false);
  assert.ok(page.get('login-form').elements.length >= 3);
  assert.ok(page.get('login-form').elements.every((e) => e.disabled));

  const app = nacl.box.keyPair();
  page = fakePage('dist/login.html', hypnos.api, appSearch(app));
  await import(`${web('dist/login.js').href}?run=2`);
  // Empty fields: said at each field, nothing sent.
  await page.get('login-form').fire('submit');
  assert.match(page.get('email-error').textContent, /Enter your e-mail/);
  assert.match(page.get('passphrase-error').textContent, /Enter your passphrase/);

  page.get('email').value = 'bundle@example.com';
  page.get('passphrase').value = 'wrong';
  await page.get('login-form').fire('submit');
  assert.equal(page.get('email-error').hidden, true);
  assert.match(page.get('passphrase-error').textContent, /Wrong e-mail or passphrase/);
  assert.equal(page.get('passphrase').getAttribute('aria-invalid'), 'true');
  assert.equal(page.get('error').hidden, true);
  assert.equal(page.get('handoff').hidden, true);
  assert.ok(page.get('login-form').elements.every((e) => !e.disabled), 'the form works again');

  page.get('passphrase').value = STRONG;
  await page.get('login-form').fire('submit');
  assert.equal(page.get('error').hidden, true);
  assert.equal(page.get('passphrase-error').hidden, true);
  const who = await openAndCheck(page.get('open-app').href, page.get('code').value, app);
  assert.equal(who.email, 'bundle@example.com');
});

test('bundled pages: the app\'s provider parameter', async () => {
  const app = nacl.box.keyPair();
  const search = (provider) => {
    const url = new URL(`http://x/app/auth-app/${appSearch(app)}`);
    url.searchParams.set('source_origin', 'desktop_app');
    if (provider) url.searchParams.set('provider', provider);
    return url.search;
  };
  const cases = [
    ['google', 'Log-in with Google is not available on a self-hosted server.'],
    ['github', 'Log-in with GitHub is not available on a self-hosted server.'],
    ['sso', 'Single sign-on (SSO) is not available on a self-hosted server.'],
    ['email', null],
    [null, null],
    ['constructor', null],
  ];
  for (const [provider, said] of cases) {
    const page = fakePage('dist/login.html', hypnos.api, search(provider));
    await import(`${web('dist/login.js').href}?provider=${provider}`);
    assert.equal(page.get('provider-notice').hidden, said === null, `${provider}`);
    if (said) assert.equal(page.get('provider-unavailable').textContent, said);
    // The e-mail form stays the way in; the sign-up link keeps the app's parameters.
    assert.equal(page.get('error').hidden, true);
    assert.ok(page.get('login-form').elements.every((e) => !e.disabled));
    assert.equal(page.get('signup-link').search, search(provider));
  }
  const page = fakePage('dist/signup.html', hypnos.api, search('github'));
  await import(`${web('dist/signup.js').href}?provider=github`);
  assert.equal(page.get('provider-notice').hidden, false);
  assert.equal(page.get('provider-unavailable').textContent, 'Sign-up with GitHub is not available on a self-hosted server.');
  assert.equal(page.get('login-link').search, search('github'));
});
