#!/usr/bin/env node
'use strict';
// The newest Insomnia app's /v3 calls, made through the generated SDK it uses
// (@getinsomnia/insomnia-v3-fetch, pinned in package-lock.json), configured as the app's
// packages/insomnia-api/src/spaces.ts configures it: basePath {server}/v3, the session as the API
// key header X-Session-ID. crates/server/tests/newest_app.rs drives it against the real server.
//
//   node interop/v3-client.js --server URL --session SID [--email E --passphrase P]
//        [--page-size N] [--filter TEXT]
//     → {"user", "keys", "unlocked"?, "onboarding", "spaces", "pages", "filtered"?,
//        "action", "threshold", "badAction", "unauthorized"}
//
// `spaces` is every space, read page by page as the app's getSpaces loops (page[after] taken out
// of meta.page.next until it is null); `pages` how many requests that took. With --email and
// --passphrase the account's keys are unlocked as the app's absorbKey does (app-crypto.js, the
// app's own npm libraries): `unlocked` says whether the private key matches the public key.
// `badAction` and `unauthorized` are the problems the SDK hands the app for a refused action and
// a wrong session ({status, title, detail, invalid_parameters}).
//
// One JSON value on stdout; on any failure a message on stderr and exit status 1.

const nodeCrypto = require('crypto');

const { Configuration, DefaultApi, ResponseError } = require('@getinsomnia/insomnia-v3-fetch');

const crypto = require('./app-crypto');

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (!flag.startsWith('--') || i + 1 >= argv.length) {
      throw new Error(`unexpected argument ${JSON.stringify(flag)}`);
    }
    options[flag.slice(2)] = argv[i + 1];
  }
  for (const required of ['server', 'session']) {
    if (!options[required]) {
      throw new Error(`--${required} is required`);
    }
  }
  return options;
}

/** A client as the app builds one (spaces.ts buildClient). */
function client(server, sessionId) {
  return new DefaultApi(
    new Configuration({
      basePath: `${server}/v3`,
      apiKey: name => (name === 'X-Session-ID' ? sessionId : ''),
      headers: {
        'X-Insomnia-Client': 'desktop::linux::13.3.1',
        'X-Origin': server,
        'insomnia-request-id': `desk_${nodeCrypto.randomUUID().replace(/-/g, '')}`,
      },
    }),
  );
}

/** The page[after] of a `next` link, as spaces.ts extractPageAfter reads it. */
function pageAfter(server, next) {
  if (!next) {
    return undefined;
  }
  return new URL(next, server).searchParams.get('page[after]') ?? undefined;
}

/** Every space, page by page (spaces.ts getSpaces). */
async function allSpaces(api, server, pageSize, filter) {
  const spaces = [];
  let after;
  let pages = 0;
  do {
    const response = await api.listCurrentUserSpaces({ pageSize, pageAfter: after, filter });
    pages += 1;
    spaces.push(...response.data);
    after = pageAfter(server, response.meta.page.next);
    if (pages > 10000) {
      throw new Error('the server keeps handing out pages');
    }
  } while (after);
  return { spaces, pages };
}

/** What the SDK hands over for an error answer: the problem JSON, as the app reads it. */
async function problemOf(promise) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ResponseError) {
      const body = await error.response.clone().json();
      return {
        status: error.response.status,
        contentType: error.response.headers.get('content-type'),
        title: body.title,
        detail: body.detail,
        instance: body.instance,
        invalid_parameters: body.invalid_parameters,
        error: body.error,
        message: body.message,
      };
    }
    throw error;
  }
  throw new Error('the call was expected to fail');
}

/** absorbKey's unlocking: the account key under SEC_PWD_Enc, then the private key under it. */
async function unlock(keys, email, passphrase) {
  const encKey = await crypto.deriveKey(
    crypto.sanitizePassphrase(passphrase),
    crypto.sanitizeEmail(email),
    keys.salt_enc,
  );
  const accountKey = JSON.parse(crypto.decryptAES(encKey, JSON.parse(keys.enc_symmetric_key)));
  const privateKey = JSON.parse(crypto.decryptAES(accountKey, JSON.parse(keys.enc_private_key)));
  const publicKey = JSON.parse(keys.public_key);
  return privateKey.n === publicKey.n && privateKey.e === publicKey.e && Boolean(privateKey.d);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const server = options.server.replace(/\/$/, '');
  const api = client(server, options.session);
  const pageSize = options['page-size'] ? Number(options['page-size']) : 200;

  const [user, keys] = await Promise.all([api.getCurrentUser(), api.getCurrentUserEncryptionKeys()]);
  const out = { user, keys };
  if (options.email && options.passphrase) {
    out.unlocked = await unlock(keys, options.email, options.passphrase);
  }
  out.onboarding = await api.getCurrentUserOnboarding();
  const { spaces, pages } = await allSpaces(api, server, pageSize, undefined);
  out.spaces = spaces;
  out.pages = pages;
  if (options.filter) {
    out.filtered = (await allSpaces(api, server, pageSize, { name: { contains: options.filter } }))
      .spaces;
  }
  await api.createCurrentUserAction({
    currentUserActionCreate: { action_type: 'request_executed', event_id: 'evt-interop-1' },
  });
  out.action = 'ok';
  await api.reachCurrentUserRequestThreshold();
  out.threshold = 'ok';
  out.badAction = await problemOf(
    api.createCurrentUserAction({ currentUserActionCreate: { action_type: 'shopping' } }),
  );
  out.unauthorized = await problemOf(client(server, 'f'.repeat(64)).getCurrentUser());
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch(error => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
