import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { isSameSecret } from '../lib/secret.ts';

/**
 * PGlite has no lock across processes: two processes on one data directory silently lose rows. The lock is
 * a listening local socket named after the directory: on Linux in the abstract namespace, which the kernel
 * frees the moment its owner dies, so no stale lock outlives a crash (or belongs, after a restart, to an
 * unrelated process that reused the pid). Elsewhere it is a socket file in the directory, taken over when
 * nothing answers on it.
 *
 * The same socket lets other earshot commands reach the owner (to run beside it); a caller proves it may
 * read the data directory by sending the token the owner keeps there, readable only by its user.
 */
export interface DataDirLock {
  dataDir: string;
  /** Starts answering connections (earlier ones wait); without a handler they are told who holds the lock. */
  serve(handler: (socket: Socket) => void): void;
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

const TOKEN_FILE = 'earshot.token';
// The pid lock file of earlier versions: its content means nothing now.
const LEGACY_LOCK_FILE = 'earshot.lock';

/** The socket address of a data directory's lock. */
export function lockAddress(dataDir: string): string {
  const dir = realpathSync(dataDir);
  if (process.platform === 'linux') return `\0earshot-${createHash('sha256').update(dir).digest('hex').slice(0, 40)}`;
  return join(dir, 'earshot.sock');
}

/**
 * `holder.serves`: the holder will answer other commands (earshot run); until it does, they wait. Any other
 * holder (a CLI command) tells them at once who holds the directory.
 */
export async function acquireDataDirLock(dataDir: string, holder: { role: string; serves: boolean }): Promise<DataDirLock> {
  mkdirSync(dataDir, { recursive: true });
  const address = lockAddress(dataDir);
  let handler: ((socket: Socket) => void) | null = null;
  const waiting: Socket[] = [];
  const refuse = (socket: Socket) => {
    socket.end(`${JSON.stringify({ refused: `data directory ${dataDir} is in use by another earshot command (${holder.role}, pid ${process.pid}); try again when it ends` })}\n`);
    // What the caller sends is not read: let it drain, so the connection closes and the lock can be released.
    socket.resume();
  };
  const server = createServer((socket) => {
    // A caller that went away (a probe, a CLI stopped with Ctrl-C) is not this process's error.
    socket.on('error', () => undefined);
    if (handler) return handler(socket);
    if (!holder.serves) return refuse(socket);
    waiting.push(socket);
    socket.once('close', () => waiting.splice(waiting.indexOf(socket) >>> 0, 1));
  });
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(server, address);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await answers(address)) {
        throw new DataDirLockedError(
          `data directory ${dataDir} is in use by another earshot process; ` +
            `stop it, or point EARSHOT_DATA_DIR elsewhere, or set DATABASE_URL to share a PostgreSQL server`,
        );
      }
      // A socket file nobody listens on (not Linux): its owner died. Take it over once.
      if (attempt > 0 || address.startsWith('\0')) throw err;
      rmSync(address, { force: true });
    }
  }
  rmSync(join(dataDir, LEGACY_LOCK_FILE), { force: true });
  writeFileSync(join(dataDir, TOKEN_FILE), randomBytes(24).toString('hex'), { mode: 0o600 });
  return {
    dataDir,
    serve(h) {
      handler = h;
      for (const socket of waiting.splice(0)) h(socket);
    },
    async release() {
      for (const socket of waiting.splice(0)) refuse(socket);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!address.startsWith('\0')) rmSync(address, { force: true });
    },
  };
}

/** Whether the caller's token is the owner's: the caller can read the data directory as its owner does. */
export function isOwnerToken(dataDir: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  let expected: Buffer;
  try {
    expected = readFileSync(join(dataDir, TOKEN_FILE));
  } catch {
    return false;
  }
  return isSameSecret(token, expected);
}

/** The token a client sends to the owner of the data directory. */
export function readOwnerToken(dataDir: string): string {
  return readFileSync(join(dataDir, TOKEN_FILE), 'utf8');
}

/** Connects to the process holding the data directory; null when none does. */
export async function connectToDataDirOwner(dataDir: string): Promise<Socket | null> {
  let address: string;
  try {
    address = lockAddress(dataDir);
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    const socket = connect(address);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}

function listen(server: Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(address, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function answers(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(address);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
