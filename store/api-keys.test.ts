import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { createApiKey, findApiKey, hashApiKey, listApiKeys, revokeApiKey, touchApiKey } from './api-keys.ts';
import type { Store } from './connect.ts';

describe('api keys', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(() => store.close());

  it('creates a key shown once and stores only its sha256 and prefix', async () => {
    const created = await createApiKey(store.db, { name: 'zendesk pull', scopes: ['read'] });
    expect(created.key).toMatch(/^esk_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(4, 12));
    expect(created.scopes).toEqual(['read']);

    const row = await store.db.selectFrom('api_keys').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashApiKey(created.key));
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.key.slice(4));
    expect(row.scopes).toEqual(['read']);
  });

  it('finds an active key by plaintext and ignores unknown, malformed and revoked ones', async () => {
    const created = await createApiKey(store.db, { name: 'both', scopes: ['write', 'read'] });
    expect(await findApiKey(store.db, created.key)).toEqual({
      id: created.id, name: 'both', scopes: ['read', 'write'], lastUsedAt: null,
    });
    expect(await findApiKey(store.db, `${created.key}x`)).toBeNull();
    expect(await findApiKey(store.db, 'esk_short')).toBeNull();
    expect(await findApiKey(store.db, created.key.replace('esk_', 'xxx_'))).toBeNull();

    expect(await revokeApiKey(store.db, created.id)).toBe(true);
    expect(await revokeApiKey(store.db, created.id)).toBe(false);
    expect(await findApiKey(store.db, created.key)).toBeNull();

    const listed = await listApiKeys(store.db);
    const revoked = listed.find((k) => k.id === created.id);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    expect(revoked?.prefix).toBe(created.prefix);
    expect(Object.keys(revoked ?? {})).not.toContain('key');
  });

  it('touches last_used_at at most once per interval', async () => {
    const created = await createApiKey(store.db, { name: 'touch', scopes: ['read'] });
    const t0 = new Date('2026-03-01T12:00:00Z');
    expect(await touchApiKey(store.db, created.id, t0)).toBe(true);
    expect(await touchApiKey(store.db, created.id, new Date(t0.getTime() + 30_000))).toBe(false);
    expect(await touchApiKey(store.db, created.id, new Date(t0.getTime() + 60_000))).toBe(true);
    const found = await findApiKey(store.db, created.key);
    expect(found?.lastUsedAt?.toISOString()).toBe('2026-03-01T12:01:00.000Z');
  });
});
