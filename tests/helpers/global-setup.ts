import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openStore } from '../../store/connect.ts';

/**
 * Migrates one template database per run, so a test file starts from a copy in about a second:
 * a PGlite data-dir tarball by default, a PostgreSQL TEMPLATE database when DATABASE_URL is set.
 */
export default async function setup(project: TestProject) {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const template = `earshot_tpl_${process.pid}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
    const url = new URL(databaseUrl);
    url.pathname = `/${template}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    await migrateToLatest(db);
    await db.destroy();
    project.provide('pgTemplate', template);
    project.provide('pgliteTemplate', '');
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
      await admin.end();
    };
  }
  const dir = resolve('.test-cache');
  mkdirSync(dir, { recursive: true });
  const pglite = new PGlite();
  const store = await openStore({ pglite });
  await migrateToLatest(store.db);
  const tarball = await pglite.dumpDataDir('none');
  const file = join(dir, `template-${process.pid}.tar`);
  writeFileSync(file, Buffer.from(await tarball.arrayBuffer()));
  await store.close();
  project.provide('pgTemplate', '');
  project.provide('pgliteTemplate', file);
  return () => rmSync(file, { force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
    pgliteTemplate: string;
  }
}
