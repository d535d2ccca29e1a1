import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyTestStore } from '../../tests/helpers/test-store.ts';
import { migrateToLatest, type Store } from '../connect.ts';
import { migrations } from './index.ts';

describe('migration 0014: the newest mention kept on the target', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createEmptyTestStore();
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
    const { error } = await migrator.migrateTo('0013-model-metrics');
    if (error) throw error;
  });
  afterAll(() => store?.close());

  it('fills it from the mentions already stored: publication time, else first seen; null without any', async () => {
    await sql`
      INSERT INTO brands (id, name, keywords) VALUES (1, 'Acme', '["acme"]');
      INSERT INTO targets (id, source, brand_id, schedule) VALUES
        ('news', 'rss', 1, '0 * * * *'), ('branch', '2gis', 1, '0 * * * *'), ('quiet', 'rss', 1, '0 * * * *');
      INSERT INTO mentions (source, external_id, brand_id, target_id, text, content_hash, published_at, first_seen_at, updated_at, lang, sentiment, sentiment_model, actionable)
      VALUES ('rss', 'a', 1, 'news', 'acme is late', 'h1', '2026-11-01T10:00:00Z', '2026-11-20T10:00:00Z', now(), 'en', 'negative', 'en-v1', true),
             ('rss', 'b', 1, 'news', 'acme again', 'h2', '2026-11-05T10:00:00Z', '2026-11-06T10:00:00Z', now(), 'en', 'neutral', 'en-v1', false),
             ('2gis', 'c', 1, 'branch', 'fine', 'h3', NULL, '2026-11-07T10:00:00Z', now(), 'en', 'positive', 'en-v1', false);
    `.execute(store.db);
    expect(await migrateToLatest(store.db)).toContain('0014-target-latest');
    const rows = await store.db.selectFrom('targets').select(['id', 'latest_mention_at']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'branch', latest_mention_at: new Date('2026-11-07T10:00:00Z') },
      { id: 'news', latest_mention_at: new Date('2026-11-05T10:00:00Z') },
      { id: 'quiet', latest_mention_at: null },
    ]);
  });
});
