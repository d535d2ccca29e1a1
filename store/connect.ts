import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { watchDiskSpace } from './disk-space.ts';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  /** The one pool; pg-boss shares it so its jobs join the same PGlite session. */
  pool: pg.Pool;
  kind: 'pglite' | 'postgres';
  /** The embedded data directory's lock, held while the store is open; absent on PostgreSQL and in tests. */
  lock?: DataDirLock;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** An already-open PGlite (tests load one from a template); the store closes it. */
  pglite?: PGlite;
  /** Told when the server drops an idle connection (restart, failover); the pool reconnects by itself. */
  onConnectionLost?: (err: Error) => void;
  /** What the opener runs (run, targets, ...), told to another process that finds the data directory held. */
  role?: string;
  /** The opener will run other processes' commands on its store (earshot run): they wait for it to start. */
  servesCommands?: boolean;
}

export { DataDirLockedError } from './data-dir-lock.ts';

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.onConnectionLost ?? (() => {}));
  if (opts.pglite) return wrapPglite(opts.pglite, () => {});
  const dataDir = resolve(opts.dataDir ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const lock = await acquireDataDirLock(dataDir, { role: opts.role ?? 'earshot', serves: opts.servesCommands ?? false });
  try {
    const pgDir = join(dataDir, 'pg');
    await initPgliteDataDir(pgDir);
    const pglite = new PGlite({ dataDir: pgDir, startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])] });
    await pglite.waitReady;
    return { ...wrapPglite(pglite, () => lock.release()), lock };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/**
 * PostgreSQL's memory settings inside PGlite. PGlite's WebAssembly memory only grows: what PostgreSQL touches
 * once stays resident for the life of the process. Its server defaults cost the embedded process far more than
 * they give it: 128 MB of shared buffers, all written once at start, and 64 MB for each index build. The OS
 * page cache keeps the data files warm instead (reads cost a system call, not a disk access).
 */
export const PGLITE_SETTINGS = ['shared_buffers=32MB', 'maintenance_work_mem=16MB'] as const;

/**
 * Creates PostgreSQL's files in a new data directory (initdb). PGlite runs initdb in a WebAssembly instance of
 * its own, and its memory (some 600 MB) would stay resident in this process until the garbage collector got
 * round to it, a minute or more: it runs in a short-lived process instead, which gives everything back when it
 * exits. An existing directory is left as it is.
 */
async function initPgliteDataDir(pgDir: string): Promise<void> {
  if (existsSync(join(pgDir, 'PG_VERSION'))) return;
  // Made aside and renamed when whole: an initdb cut short (a full disk, a kill) leaves nothing that looks like
  // a database, and the next start makes it again.
  const partial = `${pgDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const pgliteUrl = import.meta.resolve('@electric-sql/pglite');
  const script = `import { PGlite } from ${JSON.stringify(pgliteUrl)};
const pglite = new PGlite({ dataDir: process.argv[1] });
await pglite.waitReady;
await pglite.close();`;
  await new Promise<void>((resolvePromise, reject) => {
    // Plain node: spawn passes none of this process's flags (its TypeScript loader), and the script is JavaScript.
    const child = spawn(process.execPath, ['--input-type=module', '--eval', script, partial], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) return resolvePromise();
      rmSync(partial, { recursive: true, force: true });
      // PGlite's file system fails with its own errno (51: no space left): carried as the cause, for the one-line
      // message of bin/operator-faults.ts.
      const errno = /ErrnoError \{[^}]*errno: (\d+)/.exec(stderr)?.[1];
      const cause = errno === undefined ? undefined : Object.assign(new Error(`errno ${errno}`), { name: 'ErrnoError', errno: Number(errno) });
      reject(new Error(`could not create the database in ${pgDir} (initdb ${signal ?? `exit ${code}`}): ${stderr.trim().slice(-2000)}`, { cause }));
    });
  });
  // A pg directory without PG_VERSION is what an earlier version's cut-short initdb left: not a database.
  rmSync(pgDir, { recursive: true, force: true });
  renameSync(partial, pgDir);
}

function openPostgres(connectionString: string, onConnectionLost: (err: Error) => void): Store {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // pg emits 'error' when the server ends an idle client; unheard, that event would crash the process.
  // The pool has already discarded the client, and the next query opens a fresh connection.
  pool.on('error', onConnectionLost);
  const db = watchDiskSpace((log) => new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log }));
  return { db, pool, kind: 'postgres', close: () => db.destroy() };
}

function wrapPglite(pglite: PGlite, release: () => Promise<void> | void): Store {
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 });
  const db = watchDiskSpace((log) => new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log }));
  let closed = false;
  return {
    db,
    pool,
    kind: 'pglite',
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await pglite.close();
      await release();
    },
  };
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  if (await appliedExactly(db, Object.keys(migrations))) return [];
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '?'} failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Whether the store has applied exactly these migrations: the common case at every start, answered with two
 * reads instead of the migrator's checks and locks (a tenth of a second on PGlite). Anything else, a store
 * behind or ahead of this code, goes to the migrator, which applies or explains.
 */
async function appliedExactly(db: Kysely<any>, names: readonly string[]): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`SELECT to_regclass('kysely_migration') IS NOT NULL AS present`.execute(db);
  if (!rows[0]?.present) return false;
  const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
  const appliedNames = new Set(applied.rows.map((r) => r.name));
  return appliedNames.size === names.length && names.every((n) => appliedNames.has(n));
}

/**
 * Runs `fn` in a transaction, or inside the caller's when `db` already is one
 * (a dry-run crawl wraps everything in one transaction that it rolls back).
 */
export async function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute(fn);
}

// Held while schema is set up: two processes migrating, or installing pg-boss, at the same moment deadlock.
const STARTUP_LOCK = 7262003;

/**
 * Runs `fn` while no other process sets up the same database. On PostgreSQL a session advisory lock on a
 * connection of its own; PGlite has one process by construction.
 */
export async function withStartupLock<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  if (store.kind !== 'postgres') return fn();
  const client = await store.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK]).catch(() => undefined);
    client.release();
  }
}

/** One round trip to the database: what `/health` asks. */
export async function pingStore(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
