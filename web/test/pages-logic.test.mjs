// The pages' pure logic, without a server or a browser: the app's query parameters
// (insomnia-wire-newer.md §2.1) and the passphrase strength rule (zxcvbn 4.4.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { pageParams } from '../src/params.js';
import { LABELS, MAX_CHECKED_CHARS, MIN_SCORE, passphraseStrength, userInputsFor } from '../src/strength.js';

test('pageParams: provider and source_origin as the newer apps send them', () => {
  // As the app builds it: URL.searchParams.set of the once-encoded key, then the origin and
  // the provider of the button pressed (packages/insomnia/src/routes/auth.login.tsx).
  const url = new URL('https://sync.example.com/app/auth-app/');
  url.searchParams.set('loginKey', encodeURIComponent('k+/='));
  url.searchParams.set('source_origin', 'desktop_app');
  url.searchParams.set('provider', 'google');
  assert.deepEqual(pageParams(url.search), {
    provider: 'google',
    unavailable: 'Log-in with Google is not available on a self-hosted server.',
    fromApp: true,
  });
  assert.equal(pageParams('?provider=github', 'signup').unavailable, 'Sign-up with GitHub is not available on a self-hosted server.');
  assert.equal(pageParams('?provider=SSO').unavailable, 'Single sign-on (SSO) is not available on a self-hosted server.');
  // E-mail is what this server has; no provider, an unknown one or a hostile one: the form.
  for (const search of ['?provider=email', '', '?provider=', '?provider=constructor', '?provider=__proto__', `?provider=${'x'.repeat(5000)}`]) {
    const params = pageParams(search);
    assert.equal(params.unavailable, null, search.slice(0, 40));
    assert.equal(params.fromApp, false);
  }
  assert.equal(pageParams('?provider=email').provider, 'email');
  assert.equal(pageParams('?source_origin=browser').fromApp, false);
});

test('userInputsFor: the e-mail, its parts, the names and the server name', () => {
  const words = userInputsFor({
    email: ' Ada.Lovelace+sync@Example.org ',
    firstName: 'Ada',
    lastName: 'Lovelace',
    serverName: 'Analytical Engine',
  });
  for (const word of ['ada.lovelace+sync@example.org', 'ada.lovelace+sync', 'lovelace', 'sync', 'example', 'Ada', 'Analytical', 'Engine', 'insomnia']) {
    assert.ok(words.includes(word), word);
  }
  assert.ok(words.every((word) => word.length > 1));
  assert.equal(new Set(words).size, words.length);
  assert.deepEqual(userInputsFor({}), ['insomnia', 'hypnos']);
});

test('passphraseStrength: scores, labels and the sign-up threshold', () => {
  assert.equal(MIN_SCORE, 3);
  assert.deepEqual(LABELS, ['Very weak', 'Weak', 'Fair', 'Good', 'Strong']);
  const weak = passphraseStrength('password');
  assert.equal(weak.score, 0);
  assert.equal(weak.label, 'Very weak');
  assert.equal(weak.acceptable, false);
  assert.match(weak.warning, /common password/i);
  const strong = passphraseStrength('quartz lantern meadow bicycle');
  assert.equal(strong.score, 4);
  assert.equal(strong.acceptable, true);
  // Words the attacker knows count for little: a passphrase good enough for a stranger is
  // refused for the person whose e-mail it is made of.
  const own = 'weakling2024';
  const stranger = passphraseStrength(own);
  const owner = passphraseStrength(own, userInputsFor({ email: 'weakling@example.com', firstName: 'Wendy' }));
  assert.ok(stranger.acceptable, `stranger score ${stranger.score}`);
  assert.ok(!owner.acceptable, `owner score ${owner.score}`);
  // Long input is judged on its first MAX_CHECKED_CHARS characters (zxcvbn's time grows fast).
  assert.equal(MAX_CHECKED_CHARS, 100);
  const head = 'password'.repeat(13).slice(0, MAX_CHECKED_CHARS);
  assert.equal(passphraseStrength(`${head}${'quartz lantern meadow bicycle'.repeat(300)}`).score, passphraseStrength(head).score);
});
