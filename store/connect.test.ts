import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { DataDirLockedError, openStore, type Store } from './connect.ts';

describe('test store from the template', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(() => store.close());

  it('is migrated and enforces (source, external_id) uniqueness', async () => {
    const brand = await store.db
      .insertInto('brands')
      .values({ name: 'Acme', keywords: JSON.stringify(['acme']), updated_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = {
      source: 'rss', external_id: 'x1', brand_id: brand.id, author: '{}', text: 'hello', content_hash: 'h',
      first_seen_at: new Date(), updated_at: new Date(), lang: 'en', sentiment: 'neutral' as const,
      sentiment_model: 'test', actionable: false, metrics: '{}', reply: 'null',
    };
    await store.db.insertInto('mentions').values(row).execute();
    await expect(store.db.insertInto('mentions').values(row).execute()).rejects.toThrow(/unique|duplicate/i);
  });
});

describe('embedded data directory lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second opener with a clear message and takes over a stale lock', async () => {
    const first = await openStore({ dataDir: dir });
    await expect(openStore({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(openStore({ dataDir: dir })).rejects.toThrow(/in use by another earshot process/);
    await first.close();
    // A lock left by a process that no longer exists must not keep the product down.
    writeFileSync(join(dir, 'earshot.lock'), '999999999');
    const second = await openStore({ dataDir: dir });
    await second.close();
  });

  it('is not held by a live process that is not earshot on this directory, and is freed by its owner\'s death', async () => {
    // A lock file naming a live pid (this test runner; in a container, often pid 1) does not hold the directory.
    writeFileSync(join(dir, 'earshot.lock'), String(process.pid));
    const store = await openStore({ dataDir: dir });
    await store.close();
    // The owner's kill -9 frees it: a child takes the directory, dies, and the directory opens again.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { openStore } = await import(${JSON.stringify(new URL('./connect.ts', import.meta.url).href)});
      await openStore({ dataDir: ${JSON.stringify(dir)} });
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);
    `]);
    await new Promise<void>((resolve) => child.stdout.on('data', (c: Buffer) => c.toString().includes('held') && resolve()));
    await expect(openStore({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    const after = await openStore({ dataDir: dir });
    await after.close();
  });
});

describe('PostgreSQL pool errors', () => {
  it('reach onConnectionLost instead of being an unhandled error event (no server needed: pg connects lazily)', async () => {
    const lost: Error[] = [];
    const store = await openStore({ databaseUrl: 'postgres://earshot@127.0.0.1:1/none', onConnectionLost: (err) => lost.push(err) });
    store.pool.emit('error', new Error('terminating connection due to administrator command'));
    expect(lost.map((e) => e.message)).toEqual(['terminating connection due to administrator command']);
    await store.close();
  });
});

// The real thing needs a server that can drop a connection: this case runs in CI's PostgreSQL pass.
describe.runIf(process.env.DATABASE_URL)('PostgreSQL connection lost while idle', () => {
  it('is reported, not thrown, and the next query reconnects', async () => {
    const lost: Error[] = [];
    const url = process.env.DATABASE_URL!;
    const store = await openStore({ databaseUrl: url, onConnectionLost: (err) => lost.push(err) });
    try {
      const { pid } = await store.db.selectNoFrom((eb) => eb.fn<number>('pg_backend_pid').as('pid')).executeTakeFirstOrThrow();
      const admin = await openStore({ databaseUrl: url });
      await admin.db.selectNoFrom((eb) => eb.fn<boolean>('pg_terminate_backend', [eb.val(pid)]).as('ok')).execute();
      await admin.close();
      for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(lost).toHaveLength(1);
      const again = await store.db.selectNoFrom((eb) => eb.fn<number>('pg_backend_pid').as('pid')).executeTakeFirstOrThrow();
      expect(again.pid).not.toBe(pid);
    } finally {
      await store.close();
    }
  });
});
