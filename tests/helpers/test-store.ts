import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  if (template && databaseUrl) {
    const name = `earshot_t_${randomBytes(6).toString('hex')}`;
    await withAdmin(databaseUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
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
  const tarball = readFileSync(inject('pgliteTemplate'));
  const pglite = new PGlite({ loadDataDir: new Blob([tarball]) });
  await pglite.waitReady;
  return openStore({ pglite });
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
