import { isDiskFull } from '../store/disk-space.ts';

// What an operator can put right, said in one line instead of a stack trace: a port in use, a database that does
// not answer or refuses us, a data directory that cannot be written. A fault not recognised here is a bug, and
// keeps its stack.

interface SystemError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
  path?: string;
}

/** PostgreSQL's SQLSTATEs for a server that answers but will not let us in. */
const REFUSALS: Record<string, string> = {
  '28P01': 'refused the password',
  '28000': 'refused the connection (pg_hba.conf has no entry for this user, host or database)',
  '3D000': 'has no such database',
  '53300': 'has no connection left (too many clients)',
  '57P03': 'is starting up or shutting down',
};
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
/** Emscripten's errno numbers, as PGlite's file system reports them (`ErrnoError { errno: 51 }`). */
const WASM_ERRNO: Record<number, string> = { 51: 'ENOSPC', 69: 'EROFS', 2: 'EACCES', 63: 'EPERM' };
const DISK: Record<string, string> = {
  ENOSPC: 'has no space left on its device: free some, then start again (nothing stored is lost)',
  EROFS: 'is on a read-only file system: point EARSHOT_DATA_DIR at a writable directory',
  EACCES: 'may not be written by this user: fix its permissions or point EARSHOT_DATA_DIR elsewhere',
  EPERM: 'may not be written by this user: fix its permissions or point EARSHOT_DATA_DIR elsewhere',
  EDQUOT: 'is over its disk quota: free some, then start again',
};

/** The database's address as DATABASE_URL gives it, without its password. */
function databaseOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** The errors an error carries: itself, its causes, and an AggregateError's errors (a connect to each address). */
function chain(err: unknown): SystemError[] {
  const found: SystemError[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!(e instanceof Error) || depth > 5) return;
    found.push(e as SystemError);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    visit(e.cause, depth + 1);
  };
  visit(err, 0);
  return found;
}

/** One line for an operator's fault, or null when `err` is not one. */
export function describeOperatorFault(err: unknown, where: { databaseUrl: string | undefined; dataDir: string }): string | null {
  for (const e of chain(err)) {
    if (e.syscall === 'listen' && e.code === 'EADDRINUSE') {
      return `port ${e.port} on ${e.address} is in use by another program: stop it, or set PORT (and HOST) to another`;
    }
    if (e.syscall === 'listen' && (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL')) {
      return `cannot listen on ${e.address}:${e.port} (${e.code}): set PORT above 1023, or HOST to an address of this machine`;
    }
    if (isDiskFull(e)) {
      const store = where.databaseUrl === undefined ? `the data directory ${where.dataDir}` : `PostgreSQL at ${databaseOf(where.databaseUrl)}`;
      return `${store} has no disk space left (${e.message}): free some; nothing half-written was kept`;
    }
    if (where.databaseUrl !== undefined) {
      const refusal = e.code !== undefined ? REFUSALS[e.code] : undefined;
      if (refusal) return `PostgreSQL at ${databaseOf(where.databaseUrl)} ${refusal}: ${e.message} (check DATABASE_URL)`;
      if (e.code !== undefined && UNREACHABLE.has(e.code) && e.syscall !== 'listen') {
        return `PostgreSQL at ${databaseOf(where.databaseUrl)} does not answer (${e.code}): is it running, and is DATABASE_URL right?`;
      }
    }
    if (e.syscall === 'mkdir' && e.path?.startsWith(where.dataDir)) {
      return `the data directory ${where.dataDir} cannot be created (${e.code} on ${e.path}): is its parent there and writable?`;
    }
    const disk = e.code ?? (e.name === 'ErrnoError' && e.errno !== undefined ? WASM_ERRNO[e.errno] : undefined);
    // No space or a read-only disk is the data directory's (the only place earshot writes); a permission only
    // when it names a path there (or comes from PGlite's file system, which is all in it).
    const ours = e.name === 'ErrnoError' || (e.path !== undefined ? e.path.startsWith(where.dataDir) : disk !== 'EACCES' && disk !== 'EPERM');
    if (disk !== undefined && DISK[disk] && ours) {
      return `the data directory ${where.dataDir} ${DISK[disk]} (${disk}${e.path ? ` on ${e.path}` : ''})`;
    }
  }
  return null;
}
