#!/usr/bin/env node
'use strict';
// Times what each app asks after log-in, N sequential rounds against a running server
// (scripts/bench-newest-app sets it up): 10.x's whoami and organization list, the newest app's
// two /v3 calls at once and its spaces, paged at 200 through the app's own generated client
// (@getinsomnia/insomnia-v3-fetch), as the app loops over pages. Prints one JSON line per
// scenario: median, p95 and max milliseconds per round.
//
//   node interop/bench-bootstrap.js SERVER SESSION [ROUNDS]

const { Configuration, DefaultApi } = require('@getinsomnia/insomnia-v3-fetch');

const [server, session, roundsText] = process.argv.slice(2);
if (!server || !session) {
  process.stderr.write('usage: bench-bootstrap.js SERVER SESSION [ROUNDS]\n');
  process.exit(2);
}
const rounds = Number(roundsText || 300);

async function get(path) {
  const response = await fetch(`${server}${path}`, { headers: { 'X-Session-Id': session } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

const v3 = new DefaultApi(new Configuration({ basePath: `${server}/v3`, apiKey: session }));

async function allSpaces() {
  const spaces = [];
  let after;
  for (;;) {
    const page = await v3.listCurrentUserSpaces({ pageSize: 200, pageAfter: after });
    spaces.push(...page.data);
    const next = page.meta.page.next;
    if (!next) return spaces;
    after = new URL(next, server).searchParams.get('page[after]');
    if (!after) return spaces;
  }
}

const scenarios = {
  'whoami (10.x)': () => get('/auth/whoami'),
  '/v3/users/me + encryption-keys at once (13)': () =>
    Promise.all([get('/v3/users/me'), get('/v3/users/me/encryption-keys')]),
  'organizations, 201 (10.x)': async () => {
    const list = await get('/v1/organizations');
    if (list.organizations.length !== 201) throw new Error(`${list.organizations.length} organizations`);
  },
  'spaces, 201 in pages of 200 through the SDK (13)': async () => {
    const spaces = await allSpaces();
    if (spaces.length !== 201) throw new Error(`${spaces.length} spaces`);
  },
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

(async () => {
  for (const [name, run] of Object.entries(scenarios)) {
    for (let i = 0; i < 20; i += 1) await run(); // warm-up
    const times = [];
    for (let i = 0; i < rounds; i += 1) {
      const start = process.hrtime.bigint();
      await run();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const round = (ms) => Math.round(ms * 100) / 100;
    process.stdout.write(
      `${JSON.stringify({ scenario: name, rounds, medianMs: round(percentile(times, 50)), p95Ms: round(percentile(times, 95)), maxMs: round(times[times.length - 1]) })}\n`,
    );
  }
})().catch((err) => {
  process.stderr.write(`bench-bootstrap: ${err.message}\n`);
  process.exit(1);
});
