import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { createHttpClient } from '../crawlers/http.ts';
import { silentLogger } from '../log/logger.ts';
import { runCrawl, type CrawlDeps, type CrawlTarget } from '../scheduler/run-crawl.ts';
import { createApiKey } from '../store/api-keys.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { upsertTarget } from '../store/targets.ts';
import { verifyWebhook, webhookConnector } from '../delivery/connectors/webhook.ts';
import { deliverDueOutbox } from '../delivery/outbox.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { createTestStore } from './helpers/test-store.ts';
import { startWebhookReceiver } from './helpers/webhook-receiver.ts';
import { testCrawlDeps } from './helpers/crawl-deps.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

const SECRET = 'whsec_' + Buffer.from('a test secret of enough length!!').toString('base64');
const NOW = new Date('2026-11-22T10:00:00Z');
const APP_ID = '284815942';
const rssXml = readFileSync(new URL('../crawlers/rss/fixtures/guardian-trimmed.rss', import.meta.url));
const reviews = JSON.parse(
  readFileSync(new URL('../crawlers/app-store/fixtures/customerreviews-us-full.json', import.meta.url), 'utf8'),
) as { feed: { entry: { 'im:rating'?: { label: string } }[] } & Record<string, unknown> };
const entries = reviews.feed.entry.filter((e) => e['im:rating']);
const lowRated = entries.filter((e) => Number(e['im:rating']!.label) <= 2).length;

/** The 50-review recording split into three newest-first pages, then an empty fourth: paging on real items. */
function reviewPage(page: number): string {
  const slices = [entries.slice(0, 17), entries.slice(17, 34), entries.slice(34)];
  const { entry: _all, ...feed } = reviews.feed;
  const slice = slices[page - 1];
  return JSON.stringify({ feed: slice ? { ...feed, entry: slice } : feed });
}

function reviewRoutes(onPage?: (page: number) => void) {
  const routes: Record<string, (req: unknown, res: import('node:http').ServerResponse) => void> = {};
  for (let page = 1; page <= 10; page++) {
    routes[`/kz/rss/customerreviews/page=${page}/id=${APP_ID}/sortby=mostrecent/json`] = (_req, res) => {
      onPage?.(page);
      if (res.destroyed) return;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(reviewPage(page));
    };
  }
  return routes;
}

async function setUpTargets(store: Store, upstream: string) {
  const brand = await upsertBrand(store.db, { name: 'Acme', keywords: ['Trump', 'acme'] }, NOW);
  const targets: Record<'rss' | 'appStore', CrawlTarget> = {
    rss: { id: 'news', source: 'rss', params: { url: `${upstream}/feed.xml` }, brands: [brand] },
    appStore: { id: 'app', source: 'app-store', params: { appId: APP_ID, country: 'kz', baseUrl: upstream }, brands: [brand] },
  };
  for (const t of Object.values(targets)) {
    await upsertTarget(store.db, { id: t.id, source: t.source, brandIds: [brand.id], params: t.params as Record<string, unknown>, schedule: '0 * * * *', enabled: true }, NOW);
  }
  return targets;
}

describe('crawl → mention → ticket → signed webhook', () => {
  let store: Store;
  let upstream: FixtureServer;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let deps: CrawlDeps;
  let targets: Awaited<ReturnType<typeof setUpTargets>>;

  beforeAll(async () => {
    store = await createTestStore();
    upstream = await startFixtureServer({
      '/feed.xml': { headers: { 'content-type': 'application/rss+xml' }, body: rssXml },
      ...reviewRoutes(),
    });
    receiver = await startWebhookReceiver();
    deps = testCrawlDeps(store.db, {
      httpFor: () => createHttpClient({ perHostPerSecond: 1000 }),
      now: () => NOW,
      log: silentLogger,
      policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels: [{ id: 'ops', events: ['ticket.created'] }] }),
    });
    targets = await setUpTargets(store, upstream.url);
  });
  afterAll(async () => {
    await store?.close();
    await upstream?.close();
    await receiver?.close();
  });

  it('stores matching feed items and every review, and opens a ticket per actionable mention', async () => {
    const news = await runCrawl(deps, targets.rss);
    expect(news.status).toBe('ok');
    expect(news.fetched).toBe(10);
    expect(news.new).toBeGreaterThan(0);
    expect(news.new + news.unmatched).toBe(10);

    const apps = await runCrawl(deps, targets.appStore);
    expect(apps).toMatchObject({ status: 'ok', pages: 4, fetched: 50, new: 50, updated: 0, duplicates: 0, unmatched: 0 });
    expect(apps.tickets).toBeGreaterThanOrEqual(lowRated);

    const actionable = await store.db.selectFrom('mentions').select(['id', 'rating', 'sentiment']).where('actionable', '=', true).execute();
    expect(actionable.filter((m) => m.rating !== null && m.rating <= 2)).toHaveLength(lowRated);
    const tickets = await store.db.selectFrom('tickets').select(['mention_id', 'seq', 'team']).orderBy('seq').execute();
    expect(tickets.map((t) => t.mention_id).sort()).toEqual(actionable.map((m) => m.id).sort());
    expect(tickets.every((t) => t.team === 'support')).toBe(true);
    expect(news.tickets + apps.tickets).toBe(tickets.length);
  });

  it('pushes each ticket to the helpdesk and the alert channel, signed the Standard Webhooks way', async () => {
    const tickets = await store.db.selectFrom('tickets').select('id').execute();
    const destinationOf = (kind: string) => ({ connector: webhookConnector, config: { id: kind, type: 'webhook', url: `${receiver.url}/${kind}`, secret: SECRET } });
    const policy = { maxAttempts: 3, initialDelaySeconds: 5, maxDelaySeconds: 60, timeoutSeconds: 5 };
    let total = 0;
    for (;;) {
      const report = await deliverDueOutbox({ db: store.db, now: () => NOW, policy, destinationOf, log: silentLogger }, { limit: 7 });
      total += report.delivered;
      if (report.delivered + report.retrying + report.dead === 0) break;
    }
    expect(total).toBe(tickets.length * 2);
    expect(receiver.received.filter((r) => r.path === '/helpdesk')).toHaveLength(tickets.length);
    expect(receiver.received.filter((r) => r.path === '/channel')).toHaveLength(tickets.length);
    for (const hook of receiver.received) {
      expect(verifyWebhook(SECRET, hook.headers, hook.body, { now: NOW })).toBe(true);
      expect(verifyWebhook(SECRET, hook.headers, hook.body.replace('ticket', 'tickey'), { now: NOW })).toBe(false);
      const payload = JSON.parse(hook.body) as { type: string; data: { ticket: { id: string; mention: { text: string } } } };
      expect(payload.type).toBe('ticket.created');
      expect(tickets.map((t) => t.id)).toContain(payload.data.ticket.id);
    }
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    const alerts = await store.db.selectFrom('alerts').select('id').execute();
    expect(alerts).toHaveLength(tickets.length);
  });

  it('a second crawl adds nothing, opens no ticket, and stops paging at known reviews', async () => {
    const before = upstream.requests.length;
    const news = await runCrawl(deps, targets.rss);
    const apps = await runCrawl(deps, targets.appStore);
    expect(news).toMatchObject({ status: 'ok', new: 0, updated: 0, tickets: 0 });
    expect(apps).toMatchObject({ status: 'ok', new: 0, updated: 0, tickets: 0, pages: 1, duplicates: 17 });
    expect(upstream.requests.length - before).toBe(2);
    const outbox = await store.db.selectFrom('outbox').select('id').where('status', '=', 'pending').execute();
    expect(outbox).toHaveLength(0);
  });
});

describe('target health', () => {
  let store: Store;
  let upstream: FixtureServer;
  beforeAll(async () => {
    store = await createTestStore();
    upstream = await startFixtureServer({ '/blocked.xml': { status: 403, body: '<html>Access denied</html>' } });
  });
  afterAll(async () => {
    await store?.close();
    await upstream?.close();
  });

  it('a source that blocks us marks the target blocked, visibly in the API, and stores nothing', async () => {
    const brand = await upsertBrand(store.db, { name: 'Acme', keywords: ['acme'] }, NOW);
    const target = { id: 'blocked', source: 'rss', params: { url: `${upstream.url}/blocked.xml` }, brands: [brand] };
    await upsertTarget(store.db, { id: target.id, source: 'rss', brandIds: [brand.id], params: target.params, schedule: '0 * * * *', enabled: true }, NOW);
    const deps = testCrawlDeps(store.db, { httpFor: () => createHttpClient({ perHostPerSecond: 1000 }), now: () => NOW });
    for (const attempt of [1, 2]) {
      const summary = await runCrawl(deps, target);
      expect(summary).toMatchObject({ status: 'failed', errorKind: 'BlockedError', new: 0 });
      const health = await store.db.selectFrom('targets').selectAll().where('id', '=', 'blocked').executeTakeFirstOrThrow();
      expect(health).toMatchObject({ state: 'blocked', consecutive_errors: attempt, last_success_at: null });
      expect(health.last_error).toMatch(/^BlockedError: /);
    }
    const app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    const { key } = await createApiKey(store.db, { name: 'test', scopes: ['read'] });
    const res = await app.inject({ url: '/api/v1/targets', headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ data: [{ id: 'blocked', state: 'blocked', consecutive_errors: 2, last_run: { status: 'failed' } }] });
    await app.close();
  });

  it('a target whose params no longer fit its crawler needs action', async () => {
    const brand = await upsertBrand(store.db, { name: 'Acme', keywords: ['acme'] }, NOW);
    await upsertTarget(store.db, { id: 'broken', source: 'app-store', brandIds: [brand.id], params: { appId: 'not-digits' }, schedule: '0 * * * *', enabled: true }, NOW);
    const deps = testCrawlDeps(store.db, { httpFor: () => createHttpClient(), now: () => NOW });
    const summary = await runCrawl(deps, { id: 'broken', source: 'app-store', params: { appId: 'not-digits' }, brands: [brand] });
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'ZodError', pages: 0 });
    const health = await store.db.selectFrom('targets').select(['state', 'last_error']).where('id', '=', 'broken').executeTakeFirstOrThrow();
    expect(health.state).toBe('needs_action');
    expect(health.last_error).toMatch(/appId/);
  });
});

describe('a crawl killed half-way and run again', () => {
  let store: Store;
  let clean: Store;
  let upstream: FixtureServer;
  let killAtPage: number | null = 3;
  const controller = new AbortController();

  beforeAll(async () => {
    [store, clean] = await Promise.all([createTestStore(), createTestStore()]);
    upstream = await startFixtureServer(
      reviewRoutes((page) => {
        if (page === killAtPage) controller.abort(new Error('killed'));
      }),
    );
  });
  afterAll(async () => {
    await store?.close();
    await clean?.close();
    await upstream?.close();
  });

  it('loses nothing and duplicates nothing', async () => {
    const policy = basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels: [] });
    const http = createHttpClient({ perHostPerSecond: 1000, retries: 0 });
    const base = { httpFor: () => http, now: () => NOW, log: silentLogger, policy };

    const targets = await setUpTargets(store, upstream.url);
    const killed = await runCrawl(testCrawlDeps(store.db, { ...base, signal: controller.signal }), targets.appStore);
    expect(killed.status).toBe('failed');
    expect(killed.new).toBe(34);

    killAtPage = null;
    const rerun = await runCrawl(testCrawlDeps(store.db, base), targets.appStore);
    expect(rerun).toMatchObject({ status: 'ok', new: 16, duplicates: 34 });

    const reference = await runCrawl(testCrawlDeps(clean.db, base), (await setUpTargets(clean, upstream.url)).appStore);
    expect(reference.new).toBe(50);

    const snapshot = async (s: Store) => ({
      mentions: (await s.db.selectFrom('mentions').select(['external_id', 'content_hash']).orderBy('external_id').execute()),
      tickets: (await s.db.selectFrom('tickets').innerJoin('mentions', 'mentions.id', 'tickets.mention_id').select('mentions.external_id').orderBy('mentions.external_id').execute()),
      outbox: Number((await s.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    });
    expect(await snapshot(store)).toEqual(await snapshot(clean));
  });
});
