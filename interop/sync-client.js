#!/usr/bin/env node
'use strict';
// A command-line cloud-sync client that does what the Insomnia app (v10.x) does on the wire, built
// only on the npm packages the app uses (node-forge, srp-js, hkdf, through app-crypto.js) and
// Node's built-ins (fetch, zlib, WebCrypto). crates/cli/tests/interop_sync.rs drives it against
// the real server to prove that `hypnos push` / `hypnos pull` and the app read and write the same
// bytes.
//
//   node interop/sync-client.js pull --server URL --email E --passphrase P --project PRJ
//        [--branch master]
//     → {"projectId", "snapshot", "documents": [documents as stored in blobs, sorted by _id]}
//   node interop/sync-client.js push --server URL --email E --passphrase P --org ORG
//        --team-project TP --documents FILE.json [--branch master] [--message M]
//     → {"projectId", "snapshot"}
//
// Every command also takes --app 10 (the default) or --app 13: which app's calls to make where
// they differ (insomnia-wire-newer.md). 13 unlocks the keys from /v3/users/me and
// /v3/users/me/encryption-keys instead of /auth/whoami, finds the remote project through
// projects(allProjects: true) and its teamProjectId, and treats a GraphQL answer without `data`
// as a failure, as Insomnia 11-13 do.
//
// One JSON value on stdout; on any failure a message on stderr and exit status 1.
//
// The steps follow insomnia-wire.md §1 (crypto formats), §2.4 (SRP log-in), §4 (cloud sync) and
// the app's packages/insomnia/src/account/session.ts and sync/vcs/vcs.ts (re-written here, not
// copied). This client keeps no local state: every run logs in afresh and starts from the
// server's branch, as the app does on a machine that has never synced the project.

const fs = require('fs');
const zlib = require('zlib');
const nodeCrypto = require('crypto');

const srp = require('srp-js');

const crypto = require('./app-crypto');

/** The parent of a branch's first snapshot (the app's EMPTY_HASH). */
const EMPTY_HASH = '0'.repeat(40);

// The app's batch sizes: it reads snapshots 20 and blobs 50 at a time, and closes an upload batch
// at 200 blobs or more than 2 MiB of (compressed) content.
const SNAPSHOT_BATCH = 20;
const BLOB_READ_BATCH = 50;
const BLOB_UPLOAD_COUNT = 200;
const BLOB_UPLOAD_BYTES = 2 * 1024 * 1024;

// The document types the app syncs (models/index.ts canSync); everything else, a CookieJar say,
// stays on the machine.
const SYNCED_TYPES = new Set([
  'Workspace',
  'Request',
  'RequestGroup',
  'Environment',
  'ApiSpec',
  'GrpcRequest',
  'ProtoFile',
  'ProtoDirectory',
  'WebSocketRequest',
  'WebSocketPayload',
  'UnitTestSuite',
  'UnitTest',
  'MockServer',
  'MockRoute',
]);

// ---------------------------------------------------------------- command line

function usage() {
  return [
    'usage:',
    '  sync-client.js pull --server URL --email E --passphrase P --project PRJ [--branch B]',
    '  sync-client.js push --server URL --email E --passphrase P --org ORG --team-project TP',
    '                      --documents FILE.json [--branch B] [--message M]',
    '  every command: [--app 10|13]  (the app version whose calls to make; default 10)',
  ].join('\n');
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const options = {};
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (!flag.startsWith('--') || i + 1 >= rest.length) {
      throw new Error(`unexpected argument ${JSON.stringify(flag)}\n${usage()}`);
    }
    options[flag.slice(2)] = rest[i + 1];
  }
  return { command, options };
}

function appOf(options) {
  const app = options.app === undefined ? 10 : Number(options.app);
  if (app !== 10 && app !== 13) throw new Error(`--app is 10 or 13\n${usage()}`);
  return app;
}

function required(options, name) {
  const value = options[name];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`--${name} is required\n${usage()}`);
  }
  return value;
}

// ---------------------------------------------------------------- HTTP (§3.2, §4.2)

/** The X-Insomnia-Client version each app sends. */
const APP_VERSIONS = { 10: '10.3.0', 13: '13.3.1' };

class Api {
  constructor(server, app) {
    this.base = server.replace(/\/+$/, '');
    this.sessionId = null;
    this.app = app;
  }

  // The app's insomniaFetch: JSON bodies with Content-Type, the session in X-Session-Id, and a
  // response body read as JSON only when the server labels it so.
  async request(method, path, body) {
    const headers = {
      'X-Insomnia-Client': `production::linux::${APP_VERSIONS[this.app]}`,
      'insomnia-request-id': `desk_${nodeCrypto.randomBytes(16).toString('hex')}`,
      'X-Origin': this.base,
    };
    if (this.sessionId) headers['X-Session-Id'] = this.sessionId;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30000),
    });
    const isJson = (response.headers.get('content-type') || '').includes('application/json');
    const payload = isJson ? await response.json() : await response.text();
    if (!response.ok) {
      const why = isJson && payload ? payload.message || payload.error : payload;
      throw new Error(`${method} ${path}: HTTP ${response.status}: ${why || response.statusText}`);
    }
    return payload;
  }

  // POST /graphql?<label> {query, variables}; any error fails the call the way the app words it.
  async graphql(label, query, variables) {
    const answer = await this.request('POST', `/graphql?${label}`, { query, variables });
    if (answer.errors && answer.errors.length) {
      throw new Error(`Failed to query ${label}: ${answer.errors[0].message}`);
    }
    // Insomnia 11-13 (packages/insomnia-vcs/src/session.ts) refuse an answer without data.
    if (this.app === 13 && answer.data == null) throw new Error(`Failed to query ${label}: no data returned`);
    return answer.data;
  }
}

// ---------------------------------------------------------------- log-in (§2.4)

// SRP log-in, then whoami to unlock the account's keys. Returns the account id, the private key
// (project keys are encrypted to the account's public key) and the session on `api`.
async function logIn(api, rawEmail, rawPassphrase) {
  const email = crypto.sanitizeEmail(rawEmail);
  const passphrase = crypto.sanitizePassphrase(rawPassphrase);

  const { saltKey, saltAuth } = await api.request('POST', '/auth/login-s', { email });
  // SEC_PWD_Auth is the SRP password; the identity is the e-mail's UTF-8 bytes.
  const authSecret = await crypto.deriveKey(passphrase, email, saltKey);
  const secretA = await new Promise((resolve, reject) =>
    srp.genKey(32, (err, key) => (err ? reject(err) : resolve(key))),
  );
  const client = new srp.Client(
    crypto.SRP_PARAMS,
    Buffer.from(saltAuth, 'hex'),
    Buffer.from(email, 'utf8'),
    Buffer.from(authSecret, 'hex'),
    secretA,
  );
  const srpA = client.computeA().toString('hex');
  const { sessionStarterId, srpB } = await api.request('POST', '/auth/login-a', { srpA, email });
  client.setB(Buffer.from(srpB, 'hex'));
  const srpM1 = client.computeM1().toString('hex');
  const { srpM2 } = await api.request('POST', '/auth/login-m1', { srpM1, sessionStarterId });
  // Only a server that knows the verifier can answer M2; srp-js throws otherwise.
  client.checkM2(Buffer.from(srpM2, 'hex'));
  // The session id is hex(K), never sent during the handshake.
  api.sessionId = client.computeK().toString('hex');

  const keys = api.app === 13 ? await newestKeys(api) : await whoamiKeys(api);
  // SEC_PWD_Enc unwraps SYM_Account, which unwraps the private key; both with the string API
  // (percent-encoded plaintext), and each stored as a JSON string of an AESMessage.
  const encKey = await crypto.deriveKey(passphrase, email, keys.saltEnc);
  const accountKey = JSON.parse(crypto.decryptAES(encKey, JSON.parse(keys.encSymmetricKey)));
  const privateKey = JSON.parse(crypto.decryptAES(accountKey, JSON.parse(keys.encPrivateKey)));
  return { accountId: keys.accountId, privateKey };
}

// The 10.x bootstrap: one call.
async function whoamiKeys(api) {
  const whoami = await api.request('GET', '/auth/whoami');
  if (!whoami || !whoami.encSymmetricKey) throw new Error('whoami returned no encSymmetricKey');
  return whoami;
}

// The newest bootstrap (insomnia-wire-newer.md §2.2): two calls at once, both needed. The app
// gets SEC_PWD_Enc from the log-in page and never reads salt_enc; this client derives it itself.
async function newestKeys(api) {
  const [user, keys] = await Promise.all([
    api.request('GET', '/v3/users/me'),
    api.request('GET', '/v3/users/me/encryption-keys'),
  ]);
  if (!user || !user.id) throw new Error('/v3/users/me returned no id');
  if (!keys || !keys.enc_symmetric_key) throw new Error('/v3/users/me/encryption-keys returned no enc_symmetric_key');
  return {
    accountId: user.id,
    saltEnc: keys.salt_enc,
    encSymmetricKey: keys.enc_symmetric_key,
    encPrivateKey: keys.enc_private_key,
  };
}

// ---------------------------------------------------------------- GraphQL operations (§4.3)

const SNAPSHOT_FIELDS =
  'id parent created author authorAccount { firstName lastName email } name description state { blob key name }';

async function queryProjects(api, teamId, teamProjectId) {
  const data = await api.graphql(
    'projects',
    `query ($teamId: ID, $teamProjectId: ID) {
      projects(teamId: $teamId, teamProjectId: $teamProjectId) { id name rootDocumentId teams { id name } }
    }`,
    { teamId, teamProjectId },
  );
  return data.projects || [];
}

// Insomnia 11-13's remoteBackendProjectsOfTeam: every project of the organization, each with its
// team project.
async function queryAllProjects(api, teamId) {
  const data = await api.graphql(
    'projects',
    `query ($teamId: ID, $allProjects: Boolean) {
      projects(teamId: $teamId, allProjects: $allProjects) { id name rootDocumentId teamProjectId teams { id name } }
    }`,
    { teamId, allProjects: true },
  );
  return data.projects || [];
}

// The caller's link to the project, RSA-decrypted with the account's private key to the JWK.
async function queryProjectKey(api, privateKey, projectId) {
  const data = await api.graphql(
    'projectKey',
    `query ($projectId: ID!) { projectKey(projectId: $projectId) { encSymmetricKey } }`,
    { projectId },
  );
  if (!data.projectKey) throw new Error(`no key for project ${projectId}`);
  return JSON.parse(crypto.rsaDecrypt(privateKey, data.projectKey.encSymmetricKey));
}

async function queryTeamMemberKeys(api, teamId) {
  const data = await api.graphql(
    'teamMemberKeys',
    `query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey autoLinked } } }`,
    { teamId },
  );
  return data.teamMemberKeys.memberKeys;
}

async function createProject(api, variables) {
  const data = await api.graphql(
    'createProject',
    `mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!], $teamProjectId: ID) {
      projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys, teamProjectId: $teamProjectId) { id name rootDocumentId }
    }`,
    variables,
  );
  return data.projectCreate;
}

async function queryBranch(api, project, name) {
  const data = await api.graphql(
    'branch',
    `query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { created modified name snapshots } }`,
    { project, name },
  );
  return data.branch;
}

async function querySnapshots(api, project, ids) {
  const out = [];
  for (let i = 0; i < ids.length; i += SNAPSHOT_BATCH) {
    const data = await api.graphql(
      'snapshots',
      `query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { ${SNAPSHOT_FIELDS} } }`,
      { ids: ids.slice(i, i + SNAPSHOT_BATCH), project },
    );
    out.push(...data.snapshots);
  }
  return out;
}

async function queryBlobs(api, project, ids) {
  const out = [];
  for (let i = 0; i < ids.length; i += BLOB_READ_BATCH) {
    const data = await api.graphql(
      'blobs',
      `query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }`,
      { ids: ids.slice(i, i + BLOB_READ_BATCH), project },
    );
    out.push(...data.blobs);
  }
  return out;
}

async function queryMissingBlobs(api, project, ids) {
  const data = await api.graphql(
    'missingBlobs',
    `query ($project: ID!, $ids: [ID!]!) { blobsMissing(project: $project, ids: $ids) { missing } }`,
    { project, ids },
  );
  return data.blobsMissing.missing;
}

async function createBlobs(api, project, blobs) {
  const data = await api.graphql(
    'blobsCreate',
    `mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }`,
    { project, blobs },
  );
  return data.blobsCreate.count;
}

async function pushSnapshots(api, project, snapshots, branch) {
  const data = await api.graphql(
    'snapshotsPush',
    `mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) {
      snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { ${SNAPSHOT_FIELDS} }
    }`,
    { project, snapshots, branch },
  );
  return data.snapshotsCreate;
}

// ---------------------------------------------------------------- sync objects (§4.1)

// A document as the app hashes it (sync/ignore-keys.ts): without `modified`, which changes on
// every touch, and a Workspace without its parent, which is the local project.
function blobDocument(doc) {
  const copy = { ...doc };
  delete copy.modified;
  if (copy.type === 'Workspace') copy.parentId = null;
  return copy;
}

// A snapshot's id commits to its project, its parent and the blob ids of its state, sorted as
// strings (the keys and names are not part of it).
function snapshotId(projectId, parent, state) {
  const blobs = state.map((entry) => entry.blob).sort();
  return crypto.sha1Hex(projectId, parent, ...blobs);
}

// ---------------------------------------------------------------- pull

async function pull(options) {
  const api = new Api(required(options, 'server'), appOf(options));
  const projectId = required(options, 'project');
  const branchName = options.branch || 'master';
  const { privateKey } = await logIn(api, required(options, 'email'), required(options, 'passphrase'));
  const projectKey = await queryProjectKey(api, privateKey, projectId);

  const branch = await queryBranch(api, projectId, branchName);
  if (!branch || !branch.snapshots || branch.snapshots.length === 0) {
    throw new Error(`project ${projectId} has no branch ${branchName} with snapshots`);
  }
  // The app fetches every snapshot it lacks (all of them, on a fresh machine) and checks
  // nothing; here each one's id is recomputed and the chain of parents followed as well.
  const snapshots = await querySnapshots(api, projectId, branch.snapshots);
  const byId = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot]));
  let parent = EMPTY_HASH;
  for (const id of branch.snapshots) {
    const snapshot = byId.get(id);
    if (!snapshot) throw new Error(`snapshot ${id} of branch ${branchName} is missing`);
    if (snapshot.parent !== parent) {
      throw new Error(`snapshot ${id} has parent ${snapshot.parent}, expected ${parent}`);
    }
    const expected = snapshotId(projectId, snapshot.parent, snapshot.state);
    if (expected !== id) throw new Error(`snapshot ${id} does not match its state (${expected})`);
    parent = id;
  }
  const tip = byId.get(branch.snapshots[branch.snapshots.length - 1]);

  // The tip's documents. Blob content: JSON AESMessage → AES-GCM (buffer API) → gzip → the
  // deterministic JSON of the document, whose SHA-1 is the blob id.
  const wanted = [...new Set(tip.state.map((entry) => entry.blob))];
  const blobs = await queryBlobs(api, projectId, wanted);
  const documents = new Map();
  for (const blob of blobs) {
    const compressed = crypto.decryptAESToBuffer(projectKey, JSON.parse(blob.content));
    const text = zlib.gunzipSync(compressed).toString('utf8');
    if (crypto.sha1Hex(text) !== blob.id) {
      throw new Error(`blob ${blob.id}: its content hashes to ${crypto.sha1Hex(text)}`);
    }
    const document = JSON.parse(text);
    // The app would hash this document to the same id only if the content is exactly its
    // deterministic JSON (JS key order and number formatting included).
    const again = crypto.deterministicStringify(document);
    if (again !== text) {
      throw new Error(`blob ${blob.id} is not the app's deterministic JSON:\n  got  ${text}\n  want ${again}`);
    }
    documents.set(blob.id, document);
  }
  const out = [];
  for (const entry of tip.state) {
    const document = documents.get(entry.blob);
    if (!document) throw new Error(`blob ${entry.blob} (${entry.key}) is missing`);
    if (document._id !== entry.key) {
      throw new Error(`state entry ${entry.key} names blob ${entry.blob} of document ${document._id}`);
    }
    out.push(document);
  }
  out.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  return { projectId, snapshot: tip.id, documents: out };
}

// ---------------------------------------------------------------- push

// The app's "ensure remote project": the project whose root document is the workspace, in this
// team project, or a new one whose key is encrypted to every member of the organization.
async function ensureProject(api, teamId, teamProjectId, workspace) {
  const candidates =
    api.app === 13
      ? (await queryAllProjects(api, teamId)).filter((project) => project.teamProjectId === teamProjectId)
      : await queryProjects(api, teamId, teamProjectId);
  const existing = candidates.find((project) => project.rootDocumentId === workspace._id);
  if (existing) return existing.id;

  // The app's generateId('prj'): a UUID v4 without its dashes.
  const id = `prj_${nodeCrypto.randomUUID().replace(/-/g, '')}`;
  const projectKey = await crypto.generateAES256Key();
  // Chromium's WebCrypto (the app's runtime) exports members in name order; Node's does not.
  // Compact, five members: 190 bytes once percent-encoded, the most RSA-OAEP-256 takes.
  const projectKeyText = crypto.stringifySortedMembers(projectKey);
  const teamKeys = (await queryTeamMemberKeys(api, teamId)).map(({ accountId, publicKey, autoLinked }) => ({
    accountId,
    encSymmetricKey: crypto.rsaEncrypt(JSON.parse(publicKey), projectKeyText),
    autoLinked,
  }));
  const created = await createProject(api, {
    name: workspace.name,
    id,
    rootDocumentId: workspace._id,
    teamId,
    teamKeys,
    teamProjectId,
  });
  return created.id;
}

async function push(options) {
  const api = new Api(required(options, 'server'), appOf(options));
  const teamId = required(options, 'org');
  const teamProjectId = required(options, 'team-project');
  const branchName = options.branch || 'master';
  const message = options.message || 'Snapshot';
  const documents = JSON.parse(fs.readFileSync(required(options, 'documents'), 'utf8'));
  if (!Array.isArray(documents)) throw new Error('the documents file must hold a JSON array');
  const workspaces = documents.filter((doc) => doc.type === 'Workspace');
  if (workspaces.length !== 1) {
    throw new Error(`the documents must hold exactly one Workspace, not ${workspaces.length}`);
  }

  const { privateKey } = await logIn(api, required(options, 'email'), required(options, 'passphrase'));
  const projectId = await ensureProject(api, teamId, teamProjectId, workspaces[0]);
  // Like the app, read the key back from the server even for a project just made: this is the
  // key every member will decrypt.
  const projectKey = await queryProjectKey(api, privateKey, projectId);

  // Stage: one blob per synced document, private ones left out.
  const blobs = new Map();
  const state = [];
  for (const doc of documents) {
    if (!SYNCED_TYPES.has(doc.type) || doc.isPrivate) continue;
    const content = crypto.deterministicStringify(blobDocument(doc));
    const id = crypto.sha1Hex(content);
    blobs.set(id, content);
    state.push({ key: doc._id, blob: id, name: doc.name });
  }
  state.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // The new snapshot goes on top of the branch's tip (a new branch starts from EMPTY_HASH).
  const branch = await queryBranch(api, projectId, branchName);
  const parent = branch && branch.snapshots.length ? branch.snapshots[branch.snapshots.length - 1] : EMPTY_HASH;
  const snapshot = {
    id: snapshotId(projectId, parent, state),
    parent,
    created: new Date().toISOString(),
    // The server fills in the pushing account when the author is empty.
    author: '',
    name: message,
    description: '',
    state,
  };

  // Upload the blobs the server lacks: the app's local store keeps them gzipped and sends those
  // stored bytes, AES-GCM-sealed with the project key, as pretty-printed JSON.
  const missing = await queryMissingBlobs(api, projectId, [...blobs.keys()]);
  let batch = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length) await createBlobs(api, projectId, batch);
    batch = [];
    batchBytes = 0;
  };
  for (const id of missing) {
    const compressed = zlib.gzipSync(Buffer.from(blobs.get(id), 'utf8'));
    const sealed = crypto.encryptAESBuffer(projectKey, compressed);
    batch.push({ id, content: JSON.stringify(sealed, null, 2) });
    batchBytes += compressed.length;
    if (batch.length >= BLOB_UPLOAD_COUNT || batchBytes > BLOB_UPLOAD_BYTES) await flush();
  }
  await flush();

  const pushed = await pushSnapshots(api, projectId, [snapshot], branchName);
  if (!pushed.length || pushed[0].id !== snapshot.id) {
    throw new Error(`the server answered the push with ${JSON.stringify(pushed)}`);
  }
  return { projectId, snapshot: snapshot.id };
}

// ---------------------------------------------------------------- main

async function main() {
  const { command, options } = parseArgs(process.argv.slice(2));
  let result;
  if (command === 'pull') result = await pull(options);
  else if (command === 'push') result = await push(options);
  else throw new Error(`unknown command ${JSON.stringify(command)}\n${usage()}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`sync-client: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
