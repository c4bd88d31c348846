import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

/*
 * A PostgreSQL server of a test's own — initdb into a temporary directory,
 * on a free port — for tests that stop, crash or restart the database.
 * The machine's own server is never touched. Needs the PostgreSQL 15
 * binaries; as root (CI) the server runs as the postgres user.
 */

const BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
export const ownPostgresAvailable = existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** `pg_ctl stop -m immediate`: as a crash would (no checkpoint; recovery on start). */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Crash, then start again (what a failover looks like to a client). */
  crashRestart(): Promise<void>;
  /** Stops it for good and deletes its directory. */
  destroy(): Promise<void>;
}

const asRoot = userInfo().uid === 0;

/**
 * Runs a PostgreSQL program (as the postgres user when we are root). Not
 * synchronously: the test process often is the webhook receiver too, and
 * must keep answering while pg_ctl waits for the server.
 */
async function run(command: string, args: string[]): Promise<void> {
  const line = [join(BIN, command), ...args];
  const argv = asRoot
    ? ['su', 'postgres', '-s', '/bin/sh', '-c', line.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')]
    : line;
  const proc = Bun.spawn(argv, { stdout: 'pipe', stderr: 'pipe' });
  const [status, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (status !== 0) throw new Error(`${command} failed (${status}): ${err || out}`);
}

/** initdb and start a server; call destroy() when done. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-own-pg-'));
  if (asRoot) {
    const postgres = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(postgres.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () => run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const crash = () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash,
    start,
    async crashRestart() {
      await crash();
      await start();
    },
    async destroy() {
      await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {}); // already stopped
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
