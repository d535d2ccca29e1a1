import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyTestStore } from '../../tests/helpers/test-store.ts';
import { migrateToLatest, type Store } from '../connect.ts';
import { migrations } from './index.ts';

describe('migration 0005: brands of targets and mentions, interrupted runs', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createEmptyTestStore();
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
    const { error } = await migrator.migrateTo('0004-clusters');
    if (error) throw error;
  });
  afterAll(() => store?.close());

  it('links every stored target and mention to its brand, and closes runs left running, losing nothing', async () => {
    await sql`
      INSERT INTO brands (id, name, keywords) VALUES (1, 'Acme', '["acme"]'), (2, 'Other', '["other"]');
      INSERT INTO targets (id, source, brand_id, schedule) VALUES ('news', 'rss', 1, '0 * * * *'), ('branch', '2gis', 2, '0 * * * *');
      INSERT INTO mentions (id, source, external_id, brand_id, target_id, text, content_hash, first_seen_at, updated_at, lang, sentiment, sentiment_model, actionable)
      VALUES (10, 'rss', 'a', 1, 'news', 'acme is late', 'h1', now(), now(), 'en', 'negative', 'en-v1', true),
             (11, '2gis', 'b', 2, 'branch', 'other is fine', 'h2', now(), now(), 'en', 'positive', 'en-v1', false);
      INSERT INTO crawl_runs (target_id, status, started_at) VALUES ('news', 'running', now()), ('branch', 'ok', now());
    `.execute(store.db);
    expect(await migrateToLatest(store.db)).toContain('0005-runtime');

    expect(await store.db.selectFrom('mention_brands').selectAll().orderBy('mention_id').execute()).toEqual([
      { brand_id: 1, mention_id: '10' },
      { brand_id: 2, mention_id: '11' },
    ]);
    expect(await store.db.selectFrom('target_brands').selectAll().orderBy('target_id').execute()).toEqual([
      { target_id: 'branch', brand_id: 2, position: 0 },
      { target_id: 'news', brand_id: 1, position: 0 },
    ]);
    expect(await store.db.selectFrom('mentions').select(['id', 'brand_id']).orderBy('id').execute()).toEqual([
      { id: '10', brand_id: 1 },
      { id: '11', brand_id: 2 },
    ]);
    const runs = await store.db.selectFrom('crawl_runs').select(['target_id', 'status', 'finished_at']).orderBy('target_id').execute();
    expect(runs.map((r) => [r.target_id, r.status])).toEqual([['branch', 'ok'], ['news', 'interrupted']]);
    expect(runs[1]!.finished_at).not.toBeNull();
    expect(await store.db.selectFrom('targets').select(['id', 'skipped_runs']).orderBy('id').execute()).toEqual([
      { id: 'branch', skipped_runs: 0 },
      { id: 'news', skipped_runs: 0 },
    ]);
  });
});
