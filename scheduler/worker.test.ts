import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { load } from 'cheerio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { parseConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { crawlers } from '../crawlers/registry.ts';
import { silentLogger } from '../log/logger.ts';
import { createApiKey } from '../store/api-keys.ts';
import { crawlJobPending } from '../store/crawl-jobs.ts';
import type { Store } from '../store/connect.ts';
import { listTargetHealth } from '../store/target-health.ts';
import { testCrawlDeps } from '../tests/helpers/crawl-deps.ts';
import { startFixtureServer, type FixtureServer } from '../tests/helpers/fixture-server.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { describeThisProcess, startHeartbeat, type Heartbeat } from './processes.ts';
import { CRAWL_QUEUE, startCrawlQueue, type CrawlQueue } from './queue.ts';
import { fireTarget, startScheduler, type SchedulerDeps } from './scheduler.ts';
import { destinationsOf, loadScheduledTarget, syncConfig, ticketPolicyOf } from './sync-config.ts';
import { handleCrawlJob, startWorker, type Worker } from './worker.ts';
import { eventually } from '../tests/helpers/eventually.ts';

const rss = readFileSync(new URL('../crawlers/rss/fixtures/guardian-trimmed.rss', import.meta.url));
// The recorded channel page, cut to its one page (no "load more") and renamed per channel: three channels.
const channelHtml = (() => {
  const $ = load(readFileSync(new URL('../crawlers/telegram/fixtures/channel-topwar-official.html', import.meta.url), 'utf8'));
  $('.js-messages_more_wrap').remove();
  $('link[rel="prev"]').remove();
  return $.html();
})();
const channelPage = (channel: string) => channelHtml.replaceAll('topwar_official', channel);


const base = `
teams: [{ id: support, name: Support }]
routing: { defaultTeam: support }
network: { allowPrivate: true } # the fakes listen on 127.0.0.1
`;

describe('workers and the schedule', () => {
  let store: Store;
  let queue: CrawlQueue;
  let upstream: FixtureServer;
  let heartbeat: Heartbeat;
  const self = describeThisProcess('worker', 3);
  let worker: Worker | undefined;
  // Feed requests wait here until `barrier` of them are in flight at once: proof that crawls run together.
  let barrier = 1;
  let waiting: ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    store = await createTestStore();
    queue = await startCrawlQueue(store, silentLogger);
    heartbeat = await startHeartbeat(store.db, self, silentLogger);
    const feed = (_req: unknown, res: ServerResponse) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.once('finish', () => inFlight--);
      waiting.push(res);
      if (waiting.length >= barrier) {
        for (const r of waiting.splice(0)) r.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss);
      }
    };
    upstream = await startFixtureServer({
      '/a.xml': feed, '/b.xml': feed, '/c.xml': feed, '/d.xml': feed,
      '/s/airport_news': { headers: { 'content-type': 'text/html' }, body: channelPage('airport_news') },
      '/s/city_news': { headers: { 'content-type': 'text/html' }, body: channelPage('city_news') },
      '/s/spb_today': { headers: { 'content-type': 'text/html' }, body: channelPage('spb_today') },
    });
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    await heartbeat?.stop();
    await queue?.stop();
    await store?.close();
    await upstream?.close();
  });

  function configOf(targets: string, brands = 'brands: [{ name: Acme, keywords: [Trump] }]'): EarshotConfig {
    return parseConfig(`${brands}\n${base}targets:\n${targets}`, { env: {}, crawlers });
  }

  function start(config: EarshotConfig, concurrency: number): Worker {
    const now = () => new Date();
    return startWorker({
      db: store.db,
      queue,
      log: silentLogger,
      processId: self.id,
      concurrency,
      pollMs: 100,
      crawl: testCrawlDeps(store.db, { policy: ticketPolicyOf(config), processId: self.id }),
      delivery: { db: store.db, now, log: silentLogger, policy: config.delivery, destinationOf: destinationsOf(config) },
      targetOf: (id) => loadScheduledTarget(store.db, config, id),
    });
  }

  const runsOf = async (ids: string[]) =>
    store.db.selectFrom('crawl_runs').select(['target_id', 'status', 'process_id']).where('target_id', 'in', ids).where('status', '!=', 'running').execute();

  it('runs as many crawls at once as its concurrency, and no more', async () => {
    const config = configOf(['a', 'b', 'c', 'd'].map((x) => `  - { id: feed-${x}, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/${x}.xml" } }`).join('\n'));
    await syncConfig(store.db, config, crawlers, new Date());
    barrier = 3;
    maxInFlight = 0;
    worker = start(config, 3);
    for (const x of ['a', 'b', 'c']) expect(await queue.enqueue(`feed-${x}`)).toEqual(expect.any(String));
    worker.wake();
    // The three feed requests are answered only once all three are waiting: a worker running one crawl at a
    // time would never get there.
    const runs = await eventually(async () => {
      const done = await runsOf(['feed-a', 'feed-b', 'feed-c']);
      return done.length === 3 ? done : undefined;
    });
    expect(runs.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(runs.every((r) => r.process_id === self.id)).toBe(true);

    // Four jobs for two slots: never more than two requests in flight.
    barrier = 2;
    maxInFlight = 0;
    await worker.stop();
    worker = start(config, 2);
    for (const x of ['a', 'b', 'c', 'd']) await queue.enqueue(`feed-${x}`);
    worker.wake();
    await eventually(async () => ((await runsOf(['feed-a', 'feed-b', 'feed-c', 'feed-d'])).length === 7 ? true : undefined));
    expect(maxInFlight).toBe(2);
    // Every job finished: nothing left leased. A run is recorded before its job is finished, so the last
    // leases go a moment after the last run.
    await worker.stop();
    expect(await store.db.selectFrom('job_leases').select('job_id').execute()).toEqual([]);
  });

  it('counts a cron fire that finds its target queued or running, and acts on each fire once', async () => {
    const config = configOf(`  - { id: busy, source: rss, brand: Acme, schedule: "*/20 * * * * *", params: { url: "${upstream.url}/a.xml" } }`);
    await syncConfig(store.db, config, crawlers, new Date());
    const deps: SchedulerDeps = { db: store.db, queue, log: silentLogger, now: () => new Date() };
    const tick = new Date('2026-12-02T10:00:20.000Z');
    expect(await fireTarget(deps, 'busy', tick, null)).toBe('queued');
    // Another scheduler's copy of the same fire, a few ms later.
    expect(await fireTarget(deps, 'busy', new Date(tick.getTime() + 400), null)).toBe('taken');
    // No worker has taken the job yet: the next fire finds it queued.
    expect(await fireTarget(deps, 'busy', new Date('2026-12-02T10:00:40.000Z'), null)).toBe('skipped');
    const [health] = (await listTargetHealth(store.db, { now: new Date() })).filter((t) => t.id === 'busy');
    expect(health).toMatchObject({ skippedRuns: 1, lastSkippedAt: expect.any(Date) });
    const jobs = await store.pool.query(`SELECT id FROM pgboss.job WHERE name = 'crawl' AND singleton_key = 'busy'`);
    expect(jobs.rows).toHaveLength(1);
  });

  it('queues at start a target whose credentials just came, though it ran before', async () => {
    const config = configOf(`  - { id: came-back, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/c.xml" } }`);
    const synced = await syncConfig(store.db, config, crawlers, new Date());
    await store.db.updateTable('targets').set({ last_run_at: new Date('2026-11-01T00:00:00Z') }).where('id', '=', 'came-back').execute();
    const deps: SchedulerDeps = { db: store.db, queue, log: silentLogger, now: () => new Date() };
    const pending = async () => (await store.pool.query(`SELECT id FROM pgboss.job WHERE name = 'crawl' AND singleton_key = 'came-back'`)).rows.length;
    const quiet = await startScheduler(deps, synced.scheduled, {});
    await quiet.stop();
    expect(await pending()).toBe(0);
    const resumed = await startScheduler(deps, synced.scheduled, { resumed: ['came-back'] });
    await resumed.stop();
    expect(await pending()).toBe(1);
  });

  it('never crawls a disabled target, even one queued before it was disabled', async () => {
    const enabled = configOf(`  - { id: soon-off, source: rss, brand: Acme, params: { url: "${upstream.url}/b.xml" } }`);
    await syncConfig(store.db, enabled, crawlers, new Date());
    expect(await queue.enqueue('soon-off')).toEqual(expect.any(String));
    const disabled = configOf(`  - { id: soon-off, source: rss, brand: Acme, enabled: false, params: { url: "${upstream.url}/b.xml" } }`);
    await syncConfig(store.db, disabled, crawlers, new Date());
    const deps: SchedulerDeps = { db: store.db, queue, log: silentLogger, now: () => new Date() };
    expect(await fireTarget(deps, 'soon-off', new Date('2026-12-02T11:00:00Z'), null)).toBe('taken');
    const before = upstream.requests.length;
    const summary = await handleCrawlJob(
      { db: store.db, log: silentLogger, crawl: testCrawlDeps(store.db), targetOf: (id) => loadScheduledTarget(store.db, disabled, id) },
      { targetId: 'soon-off' },
    );
    expect(summary).toBeNull();
    expect(upstream.requests.length).toBe(before);
    expect(await store.db.selectFrom('crawl_runs').select('id').where('target_id', '=', 'soon-off').execute()).toEqual([]);
  });

  it('crawls each of three channels once per tick for two brands, and lists a post naming both under both', async () => {
    const config = configOf(
      `  - { id: airport, source: telegram, brands: [Пулково, Петербург], schedule: "0 0 1 1 *", params: { channel: airport_news, baseUrl: "${upstream.url}" } }
  - { id: city, source: telegram, brands: [Петербург, Пулково], schedule: "0 0 1 1 *", params: { channel: city_news, baseUrl: "${upstream.url}" } }
  - { id: spb, source: telegram, schedule: "0 0 1 1 *", params: { channel: spb_today, baseUrl: "${upstream.url}" } }`,
      `brands:
  - { name: Пулково, keywords: [пулково] }
  - { name: Петербург, keywords: [петербург] }`,
    );
    const synced = await syncConfig(store.db, config, crawlers, new Date());
    expect(synced.scheduled.map((t) => [t.id, t.brands.map((b) => b.name)])).toEqual([
      ['airport', ['Пулково', 'Петербург']],
      ['city', ['Петербург', 'Пулково']],
      ['spb', ['Пулково', 'Петербург']],
    ]);
    worker = start(config, 3);
    const scheduler = await startScheduler({ db: store.db, queue, log: silentLogger, now: () => new Date(), onQueued: worker.wake }, synced.scheduled, { crawlAtStart: false });
    const channelRequests = () => upstream.requests.filter((r) => r.path.startsWith('/s/')).map((r) => r.path).sort();
    try {
      for (const [n, tick] of ['2026-12-02T12:00:00Z', '2026-12-02T12:01:00Z'].entries()) {
        for (const t of synced.scheduled) expect(await fireTarget({ db: store.db, queue, log: silentLogger, now: () => new Date(), onQueued: worker.wake }, t.id, new Date(tick), null)).toBe('queued');
        // A run is recorded before its job is finished: wait for both, or the next fire finds the job still running.
        await eventually(async () => {
          const done = (await runsOf(['airport', 'city', 'spb'])).length === 3 * (n + 1);
          const pending = await Promise.all(synced.scheduled.map((t) => crawlJobPending(store.db, CRAWL_QUEUE, t.id)));
          return done && !pending.includes(true) ? true : undefined;
        });
        expect(channelRequests()).toEqual(['/s/airport_news', '/s/city_news', '/s/spb_today'].flatMap((p) => Array(n + 1).fill(p)));
      }
    } finally {
      await scheduler.stop();
    }

    const app = await buildApp({ db: store.db, storeKind: store.kind });
    const { key } = await createApiKey(store.db, { name: 'test', scopes: ['read'] });
    const listed = async (brand: string) => {
      const res = await app.inject({ url: `/api/v1/mentions?brand=${encodeURIComponent(brand)}&source=telegram&limit=200`, headers: { authorization: `Bearer ${key}` } });
      expect(res.statusCode).toBe(200);
      return (res.json() as { data: { external_id: string; brand: string; brands: string[] }[] }).data;
    };
    const airport = await listed('Пулково');
    const city = await listed('Петербург');
    await app.close();
    // 70989 names the airport and the city; 70995 only the city; each stored once per channel.
    const both = 'airport_news/70989';
    expect(airport.map((m) => m.external_id)).toContain(both);
    expect(city.map((m) => m.external_id)).toContain(both);
    expect(airport.find((m) => m.external_id === both)).toMatchObject({ brand: 'Пулково', brands: expect.arrayContaining(['Пулково', 'Петербург']) });
    expect(city.map((m) => m.external_id)).toContain('city_news/70995');
    expect(airport.map((m) => m.external_id)).not.toContain('city_news/70995');
    // The first brand of the city channel is the city: a post naming both is stored for it there.
    expect(city.find((m) => m.external_id === 'city_news/70989')?.brand).toBe('Петербург');
    const stored = await store.db.selectFrom('mentions').select('external_id').where('source', '=', 'telegram').execute();
    expect(new Set(stored.map((m) => m.external_id)).size).toBe(stored.length);
  });
});
