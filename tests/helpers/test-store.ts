import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store } from '../../store/connect.ts';

/**
 * A fresh, migrated database for one test file: a PGlite loaded from the run's template, or on
 * PostgreSQL a database created from the template database. `close()` drops what it made.
 */
export async function createTestStore(): Promise<Store> {
  const template = inject('pgTemplate');
  const databaseUrl = process.env.DATABASE_URL;
  if (template && databaseUrl) return createPostgresStore(databaseUrl, 'earshot_t', `TEMPLATE ${template}`);
  const tarball = readFileSync(inject('pgliteTemplate'));
  const pglite = new PGlite({ loadDataDir: new Blob([tarball]) });
  await pglite.waitReady;
  return openStore({ pglite });
}

/** An empty database, no migration applied: for tests of a migration on the data of earlier ones. */
export async function createEmptyTestStore(): Promise<Store> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return openStore({ pglite: new PGlite() });
  return createPostgresStore(databaseUrl, 'earshot_e', '');
}

/** A new database on the server, dropped again by the store's `close()`. */
async function createPostgresStore(databaseUrl: string, prefix: string, options: string): Promise<Store> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin(databaseUrl, (c) => c.query(`CREATE DATABASE ${name} ${options}`));
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString() });
  return {
    ...store,
    async close() {
      await store.close();
      await withAdmin(databaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Environment for a child `earshot` process with its own empty database: a PGlite data directory,
 * or a fresh PostgreSQL database when DATABASE_URL is set. `drop()` removes it.
 */
export async function createTestDatabaseEnv(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const name = `earshot_cli_${randomBytes(6).toString('hex')}`;
    await withAdmin(databaseUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString() },
      drop: () => withAdmin(databaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'earshot-cli-'));
  return { env: { EARSHOT_DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}
