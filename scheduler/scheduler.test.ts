import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { createHttpClient } from '../crawlers/http.ts';
import { crawlers } from '../crawlers/registry.ts';
import { silentLogger } from '../log/logger.ts';
import type { Store } from '../store/connect.ts';
import { testCrawlDeps } from '../tests/helpers/crawl-deps.ts';
import { startFixtureServer, type FixtureServer } from '../tests/helpers/fixture-server.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { startWebhookReceiver } from '../tests/helpers/webhook-receiver.ts';
import { describeThisProcess, startHeartbeat } from './processes.ts';
import { startCrawlQueue, type CrawlQueue } from './queue.ts';
import { startScheduler } from './scheduler.ts';
import { destinationsOf, loadScheduledTarget, syncConfig, ticketPolicyOf, type ScheduledTarget } from './sync-config.ts';
import { startWorker } from './worker.ts';
import { eventually } from '../tests/helpers/eventually.ts';

const rss = readFileSync(new URL('../crawlers/rss/fixtures/guardian-trimmed.rss', import.meta.url));

/**
 * The scheduler with a worker in the same process, as `earshot run` starts them: the queue, a registered
 * process crawling two jobs at once, the cron tasks.
 */
async function startProduct(store: Store, config: EarshotConfig, targets: readonly ScheduledTarget[], opts: { crawlAtStart?: boolean } = {}) {
  const now = () => new Date();
  const queue = await startCrawlQueue(store, silentLogger);
  const self = describeThisProcess('run', 2);
  const heartbeat = await startHeartbeat(store.db, self, silentLogger);
  // No retries inside the client: the 429 surfaces at once as a RateLimitedError.
  const http = createHttpClient({ perHostPerSecond: 100, retries: 0 });
  const worker = startWorker({
    db: store.db,
    queue,
    log: silentLogger,
    processId: self.id,
    concurrency: 2,
    pollMs: 200,
    crawl: testCrawlDeps(store.db, { now, policy: ticketPolicyOf(config), httpFor: () => http, processId: self.id }),
    delivery: { db: store.db, now, log: silentLogger, policy: config.delivery, destinationOf: destinationsOf(config) },
    targetOf: (id) => loadScheduledTarget(store.db, config, id),
  });
  const scheduler = await startScheduler({ db: store.db, queue, log: silentLogger, now, onQueued: worker.wake }, targets, opts);
  return {
    queue,
    async stop() {
      await scheduler.stop();
      await worker.stop();
      await heartbeat.stop();
      await queue.stop();
      await http.close();
    },
  };
}


describe('scheduler', () => {
  let store: Store;
  let upstream: FixtureServer;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let product: Awaited<ReturnType<typeof startProduct>>;
  let queue: CrawlQueue;

  beforeAll(async () => {
    store = await createTestStore();
    upstream = await startFixtureServer({
      '/feed.xml': { body: rss },
      '/limited.xml': { status: 429, headers: { 'retry-after': '120' }, body: 'slow down' },
    });
    receiver = await startWebhookReceiver();
    const config = parseConfig(
      `brands:
  - name: Acme
    keywords: [Trump, FBI]
teams: [{ id: support, name: Support }]
routing: { defaultTeam: support }
network: { allowPrivate: true } # the fakes listen on 127.0.0.1
targets:
  - { id: news, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/feed.xml" } }
  - { id: old, source: rss, brand: Acme, enabled: false, params: { url: "${upstream.url}/old.xml" } }
  - { id: limited, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/limited.xml" } }
helpdesks:
  - { id: desk, type: webhook, url: "${receiver.url}/desk", secret: "a-secret-of-16-chars" }
`,
      { env: {}, crawlers },
    );
    const now = () => new Date();
    const { scheduled: targets } = await syncConfig(store.db, config, crawlers, now());
    expect(targets.map((t) => t.id)).toEqual(['news', 'limited']);
    // These tests queue crawls themselves; the first-crawl-at-start rule has its own test below.
    product = await startProduct(store, config, targets, { crawlAtStart: false });
    queue = product.queue;
  });
  afterAll(async () => {
    await product?.stop();
    await store?.close();
    await upstream?.close();
    await receiver?.close();
  });

  it('shows each enabled target its next cron run and keeps disabled ones visible', async () => {
    const rows = await store.db.selectFrom('targets').select(['id', 'state', 'enabled', 'next_run_at']).where('id', 'in', ['news', 'old']).orderBy('id').execute();
    expect(rows[0]).toMatchObject({ id: 'news', state: 'ok', enabled: true });
    expect(rows[0]!.next_run_at!.getMonth()).toBe(0);
    expect(rows[0]!.next_run_at!.getDate()).toBe(1);
    expect(rows[1]).toMatchObject({ id: 'old', state: 'disabled', enabled: false, next_run_at: null });
  });

  it('queues a target once however often it is asked, then a worker crawls it and pushes its tickets', async () => {
    const first = await queue.enqueue('news');
    const second = await queue.enqueue('news');
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();

    const run = await eventually(async () =>
      store.db.selectFrom('crawl_runs').selectAll().where('target_id', '=', 'news').where('status', '!=', 'running').executeTakeFirst(),
    );
    expect(run).toMatchObject({ status: 'ok', fetched: 10 });
    expect(run.new).toBeGreaterThan(0);
    const runs = await store.db.selectFrom('crawl_runs').select('id').where('target_id', '=', 'news').execute();
    expect(runs).toHaveLength(1);
    // The target's health is written just after its run is closed.
    const health = await eventually(async () => {
      const target = await store.db.selectFrom('targets').select(['state', 'last_success_at', 'consecutive_errors']).where('id', '=', 'news').executeTakeFirstOrThrow();
      return target.last_success_at === null ? undefined : target;
    });
    expect(health).toMatchObject({ state: 'ok', consecutive_errors: 0 });
    expect(health.last_success_at).not.toBeNull();

    const tickets = await store.db.selectFrom('tickets').select('id').execute();
    expect(tickets.length).toBe(run.tickets);
    expect(tickets.length).toBeGreaterThan(0);
    await eventually(async () => (receiver.received.length >= tickets.length ? true : undefined));
    expect(receiver.received.map((r) => r.path)).toEqual(tickets.map(() => '/desk'));
  });

  it('a source that says 429 gets its crawl queued again after Retry-After, not at the next cron tick', async () => {
    const queuedAt = Date.now();
    expect(await queue.enqueue('limited')).toEqual(expect.any(String));
    await eventually(async () =>
      store.db.selectFrom('crawl_runs').select('id').where('target_id', '=', 'limited').where('status', '=', 'failed').executeTakeFirst(),
    );
    // The target's health is written just after its run is closed.
    const health = await eventually(async () => {
      const target = await store.db.selectFrom('targets').select(['state', 'consecutive_errors', 'last_error']).where('id', '=', 'limited').executeTakeFirstOrThrow();
      return target.last_error === null ? undefined : target;
    });
    expect(health).toMatchObject({ state: 'degraded', consecutive_errors: 0 });
    expect(health.last_error).toMatch(/^RateLimitedError/);
    const again = await eventually(async () => {
      const { rows } = await store.pool.query<{ start_after: Date }>(
        `SELECT start_after FROM pgboss.job WHERE name = 'crawl' AND singleton_key = 'limited' AND state = 'created'`,
      );
      return rows[0];
    });
    const delayS = (again.start_after.getTime() - queuedAt) / 1000;
    expect(delayS).toBeGreaterThanOrEqual(119);
    expect(delayS).toBeLessThan(150);
  });
});

describe('scheduler start', () => {
  let store: Store;
  let upstream: FixtureServer;
  let product: Awaited<ReturnType<typeof startProduct>> | undefined;
  beforeAll(async () => {
    store = await createTestStore();
    upstream = await startFixtureServer({ '/feed.xml': { body: rss } });
  });
  afterAll(async () => {
    await product?.stop();
    await store?.close();
    await upstream?.close();
  });

  it('crawls a target that never ran at once, and leaves one that ran to its cron schedule', async () => {
    const config = parseConfig(
      `brands: [{ name: Acme, keywords: [Trump] }]
teams: [{ id: support, name: Support }]
routing: { defaultTeam: support }
network: { allowPrivate: true } # the fakes listen on 127.0.0.1
targets:
  - { id: fresh, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/feed.xml" } }
  - { id: known, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/feed.xml?known" } }
`,
      { env: {}, crawlers },
    );
    const now = () => new Date();
    const { scheduled } = await syncConfig(store.db, config, crawlers, now());
    await store.db.updateTable('targets').set({ last_run_at: new Date('2026-11-01T00:00:00Z') }).where('id', '=', 'known').execute();
    product = await startProduct(store, config, scheduled);
    const run = await eventually(async () =>
      store.db.selectFrom('crawl_runs').selectAll().where('target_id', '=', 'fresh').where('status', '=', 'ok').executeTakeFirst(),
    );
    expect(run.fetched).toBe(10);
    const { rows } = await store.pool.query<{ singleton_key: string }>(`SELECT singleton_key FROM pgboss.job WHERE name = 'crawl'`);
    expect(rows.map((r) => r.singleton_key)).toEqual(['fresh']);
    expect(await store.db.selectFrom('crawl_runs').select('id').where('target_id', '=', 'known').execute()).toEqual([]);
  });
});
