import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertTarget } from './test-seed.ts';

const NOW = new Date('2026-03-10T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

describe('GET /api/v1/targets', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    headers = await createBearer(store.db);
    const acme = await insertBrand(store.db, 'Acme');
    await insertTarget(store.db, { id: 'acme-rss', source: 'rss', brandId: acme });
    await insertTarget(store.db, { id: 'acme-app', source: 'app-store', brandId: acme, state: 'degraded', lastError: 'HTTP 503' });
    await store.db
      .updateTable('targets')
      .set({ last_run_at: hoursAgo(1), last_success_at: hoursAgo(1), next_run_at: hoursAgo(-3) })
      .where('id', '=', 'acme-rss')
      .execute();

    const seen = [0.5, 23.9, 24.1, 30, -1];
    for (const [i, h] of seen.entries()) {
      await insertMention(store.db, { brandId: acme, externalId: `r${i}`, targetId: 'acme-rss', firstSeenAt: hoursAgo(h) });
    }
    await insertMention(store.db, { brandId: acme, externalId: 'loose', targetId: null, firstSeenAt: hoursAgo(1) });
    // A branch with one review, published 20 days ago, and a quiet period of 14 days: silent.
    await insertTarget(store.db, { id: 'acme-quiet', source: 'app-store', brandId: acme });
    await store.db.updateTable('targets').set({ team: 'almaty' }).where('id', '=', 'acme-quiet').execute();
    await insertMention(store.db, { brandId: acme, externalId: 'q1', targetId: 'acme-quiet', firstSeenAt: hoursAgo(2), publishedAt: hoursAgo(20 * 24) });

    const run = (status: 'ok' | 'failed', startedH: number, extra: { error?: string; fetched?: number } = {}) => ({
      target_id: 'acme-rss',
      status,
      started_at: hoursAgo(startedH),
      finished_at: hoursAgo(startedH - 0.1),
      pages: 1,
      fetched: extra.fetched ?? 0,
      new: 2,
      updated: 1,
      duplicates: 3,
      unmatched: 0,
      tickets: 1,
      error: extra.error ?? null,
    });
    await store.db.insertInto('crawl_runs').values([run('failed', 5, { error: 'timeout' }), run('ok', 1, { fetched: 20 })]).execute();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('reports health per target with mentions_24h by the injected clock and the latest run', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/targets', headers });
    expect(res.statusCode).toBe(200);
    const { data } = res.json() as { data: Record<string, unknown>[] };
    expect(data.map((t) => t.id)).toEqual(['acme-app', 'acme-quiet', 'acme-rss']);
    expect(data[2]).toEqual({
      id: 'acme-rss',
      source: 'rss',
      brand: 'Acme',
      brands: ['Acme'],
      state: 'ok',
      enabled: true,
      schedule: '0 */4 * * *',
      last_run_at: '2026-03-10T11:00:00.000Z',
      last_success_at: '2026-03-10T11:00:00.000Z',
      last_error_at: null,
      last_error: null,
      consecutive_errors: 0,
      next_run_at: '2026-03-10T15:00:00.000Z',
      mentions_24h: 2,
      // The newest mention, r4, was first seen an hour after NOW and has no published date.
      last_mention_at: '2026-03-10T13:00:00.000Z',
      expected_quiet_days: 14,
      silent: false,
      team: null,
      skipped_runs: 0,
      last_skipped_at: null,
      last_run: {
        status: 'ok',
        started_at: '2026-03-10T11:00:00.000Z',
        finished_at: '2026-03-10T11:06:00.000Z',
        fetched: 20,
        new: 2,
        updated: 1,
        duplicates: 3,
        tickets: 1,
        error: null,
      },
    });
    expect(data[0]).toMatchObject({
      id: 'acme-app', state: 'degraded', last_error: 'HTTP 503', consecutive_errors: 3, mentions_24h: 0, last_run: null,
      last_mention_at: null,
    });
    expect(data[1]).toMatchObject({
      id: 'acme-quiet', team: 'almaty', mentions_24h: 1, last_mention_at: '2026-02-18T12:00:00.000Z', silent: true,
    });
  });
});
