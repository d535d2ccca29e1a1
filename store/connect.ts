import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  /** The one pool; pg-boss shares it so its jobs join the same PGlite session. */
  pool: pg.Pool;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** An already-open PGlite (tests load one from a template); the store closes it. */
  pglite?: PGlite;
  /** Told when the server drops an idle connection (restart, failover); the pool reconnects by itself. */
  onConnectionLost?: (err: Error) => void;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.onConnectionLost ?? (() => {}));
  if (opts.pglite) return wrapPglite(opts.pglite, () => {});
  const dataDir = resolve(opts.dataDir ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const release = acquireLock(dataDir);
  try {
    const pglite = new PGlite({ dataDir: join(dataDir, 'pg') });
    await pglite.waitReady;
    return wrapPglite(pglite, release);
  } catch (err) {
    release();
    throw err;
  }
}

function openPostgres(connectionString: string, onConnectionLost: (err: Error) => void): Store {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // pg emits 'error' when the server ends an idle client; unheard, that event would crash the process.
  // The pool has already discarded the client, and the next query opens a fresh connection.
  pool.on('error', onConnectionLost);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool, kind: 'postgres', close: () => db.destroy() };
}

function wrapPglite(pglite: PGlite, release: () => void): Store {
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
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
      release();
    },
  };
}

/**
 * PGlite has no lock across processes: two processes on one data directory silently lose rows.
 * A lock file with our pid makes the second one fail clearly; a lock left by a dead process is taken over.
 */
function acquireLock(dataDir: string): () => void {
  const lockPath = join(dataDir, 'earshot.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && isAlive(holder)) {
        throw new DataDirLockedError(
          `data directory ${dataDir} is in use by another earshot process (pid ${holder}); ` +
            `stop it, or point EARSHOT_DATA_DIR elsewhere, or set DATABASE_URL to share a PostgreSQL server`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirLockedError(`could not take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '?'} failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Runs `fn` in a transaction, or inside the caller's when `db` already is one
 * (a dry-run crawl wraps everything in one transaction that it rolls back).
 */
export async function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute(fn);
}
