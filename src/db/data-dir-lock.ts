import { dlopen, FFIType } from 'bun:ffi';
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/*
 * PGlite does not lock its directory, and a second process opening it
 * silently loses writes. So Tideway takes an exclusive flock(2) on
 * DATA_DIR/tideway.lock for as long as it runs. A kernel lock, unlike a pid
 * file, is released when the process dies however it dies, so a crash never
 * leaves a stale lock behind. The file's content only says who holds it.
 */

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

const libc =
  process.platform === 'win32'
    ? undefined
    : dlopen(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6', {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      });

export class DataDirLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly holder: string,
  ) {
    super(
      `Data directory ${directory} is in use by another Tideway process (${holder}). ` +
        'Stop that process first, or point DATA_DIR at another directory.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly directory: string;
  release(): void;
}

/**
 * Takes the exclusive lock on `directory` (created if missing) or throws a
 * DataDirLockedError naming the process that holds it.
 *
 * @example const lock = lockDataDir('./data'); …; lock.release();
 */
export function lockDataDir(directory: string): DataDirLock {
  const absolute = resolve(directory);
  mkdirSync(absolute, { recursive: true });
  // The embedded database's files live here: readable by this user alone,
  // whatever the umask made of them (and of a directory made before).
  try {
    chmodSync(absolute, 0o700);
  } catch {
    // A directory someone else owns (and lets us write to) keeps its mode: theirs to set.
  }
  const path = join(absolute, 'tideway.lock');
  closeSync(openSync(path, 'a'));
  const fd = openSync(path, 'r+');
  if (libc && libc.symbols.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const holder = readFileSync(path, 'utf8').trim();
    closeSync(fd);
    throw new DataDirLockedError(absolute, describeHolder(holder));
  }
  ftruncateSync(fd, 0);
  const owner = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  writeSync(fd, `${JSON.stringify(owner)}\n`, 0);
  let released = false;
  return {
    directory: absolute,
    release() {
      if (released) return;
      released = true;
      libc?.symbols.flock(fd, LOCK_UN);
      closeSync(fd);
    },
  };
}

function describeHolder(content: string): string {
  try {
    const owner = JSON.parse(content) as { pid: number; host: string; started_at: string };
    return `pid ${owner.pid} on ${owner.host}, started ${owner.started_at}`;
  } catch {
    return 'a process that has not yet written its pid';
  }
}

/**
 * Takes group and other permissions off `path` and everything under it.
 * PGlite unpacks the files of a new database with modes of its own (0666,
 * whatever the umask), so the embedded database's files are made the
 * owner's alone each time it opens; those PostgreSQL creates later it
 * creates 0600 itself.
 */
export function restrictToOwner(path: string): void {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return;
  if ((stats.mode & 0o077) !== 0) chmodSync(path, stats.mode & 0o700);
  if (stats.isDirectory()) for (const name of readdirSync(path)) restrictToOwner(join(path, name));
}
