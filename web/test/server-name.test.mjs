// `hypnos server --server-name NAME` / HYPNOS_SERVER_NAME: the name the pages show, written
// into the HTML by the server as text; a name too long or with control characters stops the
// server at start with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

import { HYPNOS, startServer } from './support.mjs';

async function page(api, path) {
  const response = await fetch(`${api}/app/auth-app/${path}`);
  assert.equal(response.status, 200);
  return response.text();
}

test('the name comes from HYPNOS_SERVER_NAME, escaped; without one, from the public URL', async () => {
  const named = await startServer([], { HYPNOS_SERVER_NAME: '  Ops & <Dev> sync  ' });
  try {
    const login = await page(named.api, '');
    assert.match(login, /<title>Log in to Ops &amp; &lt;Dev&gt; sync · Hypnos<\/title>/);
    assert.match(login, /<span id="server-name">Ops &amp; &lt;Dev&gt; sync<\/span>/);
    assert.doesNotMatch(login, /<Dev>|\{\{server_name\}\}/);
    assert.match(await page(named.api, 'signup.html'), /<title>Sign up to Ops &amp; &lt;Dev&gt; sync · Hypnos<\/title>/);
  } finally {
    named.stop();
  }
  // support.mjs sets HYPNOS_PUBLIC_URL to http://127.0.0.1:PORT: its host is the default name.
  const plain = await startServer();
  try {
    assert.match(await page(plain.api, ''), /<title>Log in to 127\.0\.0\.1 · Hypnos<\/title>/);
  } finally {
    plain.stop();
  }
});

test('a name too long, empty or with a control character is refused at start', async () => {
  for (const name of ['x'.repeat(65), '   ', 'two\nlines', 'bell\u0007']) {
    const failure = await new Promise((resolve) => {
      execFile(HYPNOS, ['server', '--listen', '127.0.0.1:0', '--server-name', name], { timeout: 30000 }, (err, _out, stderr) =>
        resolve({ code: err && err.code, stderr }),
      );
    });
    assert.notEqual(failure.code, 0, JSON.stringify(name));
    assert.match(failure.stderr, /server-name/, JSON.stringify(name));
    assert.match(failure.stderr, /1 to 64 characters|control characters/, JSON.stringify(name));
  }
});
