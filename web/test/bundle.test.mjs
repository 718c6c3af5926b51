// `npm run build` output: self-contained bundles, CSP-clean HTML, and the bundled pages driven
// end to end against the real server through a minimal stand-in DOM (no browser here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';

import * as c from '../src/appcrypto.js';
import { DEEP_LINK_PREFIX } from '../src/login.js';
import { startServer } from './support.mjs';

const web = (path) => new URL(`../${path}`, import.meta.url);
const read = (path) => readFileSync(web(path), 'utf8');
let hypnos;

before(async () => {
  execFileSync(process.execPath, [fileURLToPath(web('build.mjs'))], { cwd: fileURLToPath(web('')), stdio: 'pipe' });
  hypnos = await startServer();
});

after(() => hypnos && hypnos.stop());

test('bundles are self-contained and the HTML works under default-src \'self\'', () => {
  for (const page of ['login', 'signup']) {
    const js = read(`dist/${page}.js`);
    // No module imports, no require of anything, no dynamic code.
    assert.doesNotMatch(js, /(^|[;\s}])import\s*[\w{*"'(]/);
    assert.doesNotMatch(js, /\brequire\(["']/);
    assert.doesNotMatch(js, /\beval\(|new Function\(/);
    assert.doesNotMatch(js, /https?:\/\/(?!www\.w3\.org)/, 'no other origins');

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

/** Just enough DOM for the page scripts; getElementById knows only the ids in the HTML. */
function fakePage(htmlFile, origin, search) {
  const ids = [...read(htmlFile).matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  const elements = new Map();
  const element = (id) => {
    const listeners = {};
    return {
      id,
      value: '',
      textContent: '',
      hidden: /hidden/.test(read(htmlFile).match(new RegExp(`<[^>]*id="${id}"[^>]*>`))[0]),
      disabled: false,
      href: '',
      search: '',
      elements: [],
      focus() {},
      select() {},
      addEventListener(type, fn) {
        listeners[type] = fn;
      },
      fire(type) {
        return listeners[type]({ preventDefault() {} });
      },
    };
  };
  for (const id of ids) elements.set(id, element(id));
  const inputs = [...read(htmlFile).matchAll(/<(?:input|button)\b[^>]*\bid="([^"]+)"/g)].map((m) => elements.get(m[1]));
  for (const form of ['login-form', 'signup-form']) if (elements.has(form)) elements.get(form).elements = inputs;
  globalThis.window = { location: { origin, search } };
  globalThis.document = { getElementById: (id) => elements.get(id) || null };
  return elements;
}

async function waitFor(condition, what) {
  const deadline = Date.now() + 30000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

test('bundled signup.js opened from the app: creates the account and hands off a working code', async () => {
  const app = nacl.box.keyPair();
  const page = fakePage('dist/signup.html', hypnos.api, appSearch(app));
  await import(`${web('dist/signup.js').href}?run=1`);
  page.get('email').value = 'bundle@example.com';
  page.get('first-name').value = 'Bun';
  page.get('last-name').value = 'Dle';
  page.get('passphrase').value = 'bundle pass';
  page.get('passphrase-again').value = 'bundle pass';
  await page.get('signup-form').fire('submit');
  await waitFor(() => !page.get('handoff').hidden || !page.get('error').hidden, 'hand-off or error');
  assert.equal(page.get('error').textContent, '');
  const who = await openAndCheck(page.get('open-app').href, page.get('code').value, app);
  assert.equal(who.email, 'bundle@example.com');
  assert.equal(who.firstName, 'Bun');
  assert.equal(page.get('passphrase').value, '');
});

test('bundled login.js: bad loginKey shows an error and disables the form; good one logs in', async () => {
  let page = fakePage('dist/login.html', hypnos.api, '?loginKey=abc');
  await import(`${web('dist/login.js').href}?run=1`);
  assert.match(page.get('error').textContent, /loginKey/);
  assert.equal(page.get('error').hidden, false);
  assert.ok(page.get('login-form').elements.every((e) => e.disabled));

  const app = nacl.box.keyPair();
  page = fakePage('dist/login.html', hypnos.api, appSearch(app));
  await import(`${web('dist/login.js').href}?run=2`);
  page.get('email').value = 'bundle@example.com';
  page.get('passphrase').value = 'wrong';
  await page.get('login-form').fire('submit');
  assert.match(page.get('error').textContent, /wrong e-mail or passphrase/);
  assert.equal(page.get('handoff').hidden, true);

  page.get('passphrase').value = 'bundle pass';
  await page.get('login-form').fire('submit');
  assert.equal(page.get('error').hidden, true);
  const who = await openAndCheck(page.get('open-app').href, page.get('code').value, app);
  assert.equal(who.email, 'bundle@example.com');
});
