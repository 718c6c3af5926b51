// Shared by the tests that need the real server: starts target/debug/hypnos on a free port with
// a fresh SQLite database (or PostgreSQL one), waits for GET /readyz 200, and stops it.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const HYPNOS = fileURLToPath(new URL('../../target/debug/hypnos', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The PostgreSQL server the tests use (as the Rust tests: HYPNOS_TEST_POSTGRES_URL). */
const POSTGRES_ADMIN = process.env.HYPNOS_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs one statement on the PostgreSQL server with the machine's `psql`. */
function psql(statement) {
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', POSTGRES_ADMIN, '-c', statement], { stdio: 'pipe' });
}

/**
 * Returns {api, dir, stop(), cli(args, env)}; `extraArgs` go to `hypnos server`, `env` adds to
 * its environment. `database: 'postgres'` runs it on a fresh PostgreSQL database (dropped by
 * `stop`) instead of a fresh SQLite file.
 */
export async function startServer(extraArgs = [], env = {}, { database = 'sqlite' } = {}) {
  if (!existsSync(HYPNOS)) throw new Error(`${HYPNOS} is missing: build the workspace first`);
  const dir = mkdtempSync(join(tmpdir(), 'hypnos-web-'));
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  let url = `sqlite://${join(dir, 'db.sqlite')}?mode=rwc`;
  let scratch = null;
  if (database === 'postgres') {
    scratch = `hypnos_web_${process.pid}_${port}`;
    psql(`CREATE DATABASE ${scratch}`);
    url = `${POSTGRES_ADMIN.slice(0, POSTGRES_ADMIN.lastIndexOf('/'))}/${scratch}`;
  }
  let log = '';
  // No metrics listener: servers of tests run at once would fight over its default port.
  const child = spawn(HYPNOS, ['server', '--listen', `127.0.0.1:${port}`, '--metrics-listen', 'off', '--database', url, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HYPNOS_PUBLIC_URL: api, ...env },
  });
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    if (scratch) psql(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) {
      stop();
      throw new Error(`hypnos server exited: ${log}`);
    }
    try {
      if ((await fetch(`${api}/readyz`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      stop();
      throw new Error(`hypnos server not ready in 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const cli = (args, env) =>
    new Promise((resolve, reject) => {
      execFile(HYPNOS, ['--server', api, ...args], { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`hypnos ${args.join(' ')} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  return { api, dir, stop, cli };
}
