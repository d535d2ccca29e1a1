import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { createBearer, insertBrand, insertMention } from '../api/test-seed.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import type { Store } from './connect.ts';
import { diskFullSince, isDiskFull } from './disk-space.ts';

// A full disk, as the database reports it (SQLSTATE 53100), raised for real by the database itself: a trigger
// stands in for the disk, so writes to one table fail the way they would on a full disk, and nothing else does.
describe('a database out of disk space', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  const fillDisk = sql`
    CREATE FUNCTION earshot_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = 'could not extend file "base/5/16420": No space left on device'; END $$;
    CREATE TRIGGER disk_full BEFORE INSERT ON mention_corrections FOR EACH STATEMENT EXECUTE FUNCTION earshot_test_disk_full();`;
  const freeDisk = sql`DROP TRIGGER disk_full ON mention_corrections; DROP FUNCTION earshot_test_disk_full();`;

  it('answers 503 for the write, reads on, says so in /health, and is well again after the next write that works', async () => {
    const app = await buildApp({ db: store.db, storeKind: store.kind });
    const brandId = await insertBrand(store.db, 'Acme');
    const mention = await insertMention(store.db, { brandId, externalId: 'disk-1', sentiment: 'negative' });
    const writer = await createBearer(store.db, ['read', 'write']);
    const health = async () => (await app.inject({ method: 'GET', url: '/health' })).json() as { status: string; problems: string[] };
    expect((await health()).problems).toEqual([]);

    await fillDisk.execute(store.db);
    const refused = await app.inject({ method: 'POST', url: `/api/v1/mentions/${mention}/sentiment`, headers: writer, payload: { label: 'neutral' } });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().detail).toBe('The database is out of disk space: nothing was written. Try again once space is freed.');
    expect(await store.db.selectFrom('mention_corrections').select('id').execute()).toEqual([]);
    expect(diskFullSince(store.db)).toBeInstanceOf(Date);
    // Reads go on, and do not end it.
    expect((await app.inject({ method: 'GET', url: `/api/v1/mentions/${mention}`, headers: writer })).statusCode).toBe(200);
    const said = await health();
    expect(said.status).toBe('ok');
    expect(said.problems).toEqual([expect.stringMatching(/^the database ran out of disk space at \d{4}-.*: writes fail until space is freed, then resume by themselves$/)]);

    await freeDisk.execute(store.db);
    const written = await app.inject({ method: 'POST', url: `/api/v1/mentions/${mention}/sentiment`, headers: writer, payload: { label: 'neutral' } });
    expect(written.statusCode, written.body).toBe(200);
    expect(diskFullSince(store.db)).toBeNull();
    expect((await health()).problems).toEqual([]);
    await app.close();
  });

  it('knows the error by its SQLSTATE alone', async () => {
    const err = await sql`DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full'; END $$`.execute(store.db).catch((e: unknown) => e);
    expect(isDiskFull(err)).toBe(true);
    expect(isDiskFull(await sql`SELECT 1/0`.execute(store.db).catch((e: unknown) => e))).toBe(false);
    await insertBrand(store.db, 'Clears it');
    expect(diskFullSince(store.db)).toBeNull();
  });
});
