import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SourceUnavailableError } from '../crawlers/errors.ts';
import { createHttpClient } from '../crawlers/http.ts';
import type { Crawler, MentionDraft, ParsedPage } from '../crawlers/types.ts';
import { silentLogger } from '../log/logger.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { upsertTarget } from '../store/targets.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { runCrawl, type CrawlDeps, type CrawlTarget } from './run-crawl.ts';
import { testCrawlDeps } from '../tests/helpers/crawl-deps.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

/**
 * A scripted source: the paging rules of runCrawl (watermark, recheck window, streams, credentials) are
 * the subject here, so pages come from a script instead of a recording. Real sources are tested end to end
 * against their recordings in their own folders.
 */
interface ScriptedPage extends ParsedPage {
  error?: Error;
}
const script = { pages: new Map<string, ScriptedPage>(), fetched: [] as string[], seenDeps: [] as { since: Date | null; credentials: unknown }[] };

const scripted = {
  id: 'scripted',
  name: 'Scripted source',
  target: z.object({ matchAll: z.boolean().default(false) }),
  defaultSchedule: '0 * * * *',
  rateLimit: { perHostPerSecond: 100 },
  expectedQuietDays: 7,
  matchKeywords: true,
  stopAtSeen: true,
  recheckHours: 48,
  maxPages: 20,
  credentials: {
    schema: z.object({ token: z.string() }),
    required: true,
    hint: 'set credentials.scripted.token',
  },
  async fetchPage(_target, cursor, deps) {
    const key = cursor ?? 'start';
    script.fetched.push(key);
    script.seenDeps.push({ since: deps.since, credentials: deps.credentials });
    return { url: `https://scripted.test/${key}`, status: 200, contentType: 'application/json', body: '', cursor: key };
  },
  parse(raw) {
    const page = script.pages.get(raw.cursor ?? 'start');
    if (!page) throw new Error(`no scripted page ${raw.cursor}`);
    if (page.error) throw page.error;
    return page;
  },
} satisfies Crawler;


const DAY = 24 * 3_600_000;
const NOW = new Date('2026-11-20T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY).toISOString();

function post(id: string, publishedDaysAgo: number, text = `acme post ${id}`, extra: Partial<MentionDraft> = {}): MentionDraft {
  return {
    source: 'scripted',
    externalId: id,
    url: null,
    author: { name: 'Ann' },
    title: null,
    text,
    rating: null,
    publishedAt: daysAgo(publishedDaysAgo),
    lang: null,
    metrics: {},
    reply: null,
    parentExternalId: null,
    ...extra,
  };
}

function setPages(pages: Record<string, ScriptedPage>) {
  script.pages = new Map(Object.entries(pages));
  script.fetched = [];
  script.seenDeps = [];
}

describe('runCrawl paging rules', () => {
  let store: Store;
  let deps: CrawlDeps;
  let now = NOW;
  const http = createHttpClient();
  const channels = [{ id: 'ops', events: ['target.silent', 'target.failing'] }];

  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
    await http.close();
  });
  beforeEach(() => {
    now = NOW;
    deps = testCrawlDeps(store.db, {
      crawlers: { scripted },
      httpFor: () => http,
      now: () => now,
      log: silentLogger,
      policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels }),
      credentials: { scripted: { token: 't' } },
    });
  });

  async function target(id: string, extra: { team?: string; expectedQuietDays?: number } = {}): Promise<CrawlTarget> {
    const brand = await upsertBrand(store.db, { name: 'Acme', keywords: ['acme'] }, NOW);
    await upsertTarget(store.db, { id, source: 'scripted', brandIds: [brand.id], params: {}, schedule: '0 * * * *', enabled: true, ...extra }, new Date(NOW.getTime() - 30 * DAY));
    return { id, source: 'scripted', params: {}, brands: [brand], team: extra.team ?? null };
  }

  it('stops at the watermark of a completed crawl even when the known items never matched the brand', async () => {
    const t = await target('channel');
    // A channel that rarely names the brand: pages of unmatched posts, dated newest first.
    setPages({
      start: { mentions: [post('9', 3, 'weather'), post('8', 4, 'acme opens')], nextCursor: 'p2' },
      p2: { mentions: [post('7', 5, 'sports'), post('6', 6, 'news')], nextCursor: 'p3' },
      p3: { mentions: [post('5', 7, 'more news')], nextCursor: null },
    });
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', pages: 3, new: 1, unmatched: 4 });
    expect(script.seenDeps[0]?.since).toBeNull();

    // Two new unmatched posts on top; the first page reaches back to the watermark (post 9), so one page.
    setPages({
      start: { mentions: [post('11', 0.5, 'traffic'), post('10', 1, 'rain'), post('9', 3, 'weather')], nextCursor: 'p2' },
      p2: { mentions: [post('8', 4, 'acme opens')], nextCursor: null },
    });
    now = new Date(NOW.getTime() + 3 * DAY);
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', pages: 1, new: 0, unmatched: 3 });
    // VK-style sources query from the watermark minus the recheck window.
    expect(script.seenDeps[0]?.since?.toISOString()).toBe(new Date(Date.parse(daysAgo(3)) - 2 * DAY).toISOString());
  });

  it('pages through the recheck window again and picks up an edit and the brand answer there', async () => {
    const t = await target('branch');
    setPages({
      start: { mentions: [post('r3', 0.2, 'acme was rude'), post('r2', 1, 'acme is slow')], nextCursor: 'p2' },
      p2: { mentions: [post('r1', 1.5, 'acme lost my order'), post('r0', 5, 'acme fine')], nextCursor: 'p3' },
      p3: { mentions: [post('old', 9, 'acme ok')], nextCursor: null },
    });
    await runCrawl(deps, t);
    // Known ids on page 1, but page 1 and 2 lie inside the last 48 h: both are read again; page 3 is not.
    setPages({
      start: { mentions: [post('r3', 0.2, 'acme was rude'), post('r2', 1, 'acme is slow')], nextCursor: 'p2' },
      p2: {
        mentions: [post('r1', 1.5, 'acme lost my order', { reply: { text: 'We found it, sorry!', at: daysAgo(0.1) } }), post('r0', 5, 'acme fine')],
        nextCursor: 'p3',
      },
      p3: { mentions: [post('old', 9, 'acme ok')], nextCursor: null },
    });
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', pages: 2, updated: 1, new: 0 });
    expect(script.fetched).toEqual(['start', 'p2']);
    const answered = await store.db.selectFrom('mentions').select(['reply', 'actionable']).where('external_id', '=', 'r1').executeTakeFirstOrThrow();
    expect(answered).toMatchObject({ reply: { text: 'We found it, sorry!' }, actionable: false });
  });

  it('moves on to the next stream when one reaches known items, and only then', async () => {
    const t = await target('streams');
    setPages({
      start: { mentions: [post('ru2', 10), post('ru1', 11)], nextCursor: 'ru-p2', nextStreamCursor: 'kk' },
      'ru-p2': { mentions: [post('ru0', 12)], nextCursor: null, nextStreamCursor: 'kk' },
      kk: { mentions: [post('kk1', 10.5)], nextCursor: null, nextStreamCursor: 'en' },
      en: { mentions: [], nextCursor: null, nextStreamCursor: null },
    });
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', new: 4 });
    expect(script.fetched).toEqual(['start', 'ru-p2', 'kk', 'en']);
    setPages({
      start: { mentions: [post('ru3', 1), post('ru2', 10)], nextCursor: 'ru-p2', nextStreamCursor: 'kk' },
      'ru-p2': { mentions: [post('ru1', 11)], nextCursor: null, nextStreamCursor: 'kk' },
      kk: { mentions: [post('kk2', 2), post('kk1', 10.5)], nextCursor: 'kk-p2', nextStreamCursor: 'en' },
      'kk-p2': { mentions: [], nextCursor: null, nextStreamCursor: 'en' },
      en: { mentions: [post('en1', 0.5)], nextCursor: null, nextStreamCursor: null },
    });
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', new: 3 });
    expect(script.fetched).toEqual(['start', 'kk', 'en']);
  });

  it('gives each stream its own page budget, so a busy first stream does not starve the others', async () => {
    const t = await target('budget');
    const pages: Record<string, ScriptedPage> = {};
    for (let i = 0; i < 30; i++) {
      pages[i === 0 ? 'start' : `ru-${i}`] = { mentions: [post(`b-ru-${i}`, 1 + i / 10)], nextCursor: `ru-${i + 1}`, nextStreamCursor: 'kk' };
    }
    pages.kk = { mentions: [post('b-kk', 1)], nextCursor: null, nextStreamCursor: null };
    setPages(pages);
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', pages: 21, new: 21 });
    expect(script.fetched.at(-2)).toBe('ru-19');
    expect(script.fetched.at(-1)).toBe('kk');
  });

  it('routes tickets of a target to its own team, and opens none for a review the brand answered', async () => {
    const t = await target('almaty-branch', { team: 'almaty' });
    setPages({
      start: {
        mentions: [
          post('bad1', 1, 'acme', { rating: 1 }),
          post('bad2', 1, 'acme', { rating: 2, reply: { text: 'Спасибо, разберёмся', at: null } }),
        ],
        nextCursor: null,
      },
    });
    expect(await runCrawl(deps, t)).toMatchObject({ status: 'ok', new: 2, tickets: 1 });
    const tickets = await store.db
      .selectFrom('tickets as t')
      .innerJoin('mentions as m', 'm.id', 't.mention_id')
      .select(['m.external_id', 't.team'])
      .where('m.target_id', '=', 'almaty-branch')
      .execute();
    expect(tickets).toEqual([{ external_id: 'bad1', team: 'almaty' }]);
  });

  it('without required credentials: disabled with the one line saying what to set, no fetch', async () => {
    const t = await target('no-creds');
    setPages({ start: { mentions: [post('x', 1)], nextCursor: null } });
    const summary = await runCrawl({ ...deps, credentials: {} }, t);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'MissingCredentialsError', error: 'set credentials.scripted.token', pages: 0 });
    expect(script.fetched).toEqual([]);
    const health = await store.db.selectFrom('targets').select(['state', 'last_error', 'consecutive_errors']).where('id', '=', 'no-creds').executeTakeFirstOrThrow();
    expect(health).toEqual({ state: 'disabled', last_error: 'MissingCredentialsError: set credentials.scripted.token', consecutive_errors: 0 });
    expect(script.seenDeps).toEqual([]);
  });

  it('alerts once per silence when a target brings nothing new for longer than its quiet period', async () => {
    const t = await target('quiet-branch', { expectedQuietDays: 7 });
    setPages({ start: { mentions: [post('q1', 10)], nextCursor: null } });
    await runCrawl(deps, t);
    await runCrawl(deps, t);
    const alerts = await store.db
      .selectFrom('alerts as a')
      .innerJoin('outbox as o', 'o.id', 'a.outbox_id')
      .select(['a.kind', 'a.channel_id', 'o.event_type', 'o.payload'])
      .where('a.target_id', '=', 'quiet-branch')
      .execute();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'target_silent',
      channel_id: 'ops',
      event_type: 'target.silent',
      payload: { type: 'target.silent', data: { target: { id: 'quiet-branch', latest_mention_at: daysAgo(10), expected_quiet_days: 7 } } },
    });
    expect((alerts[0]?.payload as { data: { alert: { summary: string } } }).data.alert.summary).toMatch(/for 10 days \(expected within 7\)/);

    // A new mention ends the silence; a later silence is a new episode and alerts again.
    setPages({ start: { mentions: [post('q2', 1), post('q1', 10)], nextCursor: null } });
    await runCrawl(deps, t);
    now = new Date(NOW.getTime() + 10 * DAY);
    await runCrawl(deps, t);
    const count = await store.db.selectFrom('alerts').select('id').where('target_id', '=', 'quiet-branch').execute();
    expect(count).toHaveLength(2);
  });

  it('alerts on a failing target: at once when blocked, after three transient failures otherwise, once per episode', async () => {
    const t = await target('flaky');
    const kinds = async () =>
      (await store.db.selectFrom('alerts').select('kind').where('target_id', '=', 'flaky').orderBy('id').execute()).map((a) => a.kind);
    setPages({ start: { mentions: [], nextCursor: null, error: new SourceUnavailableError('HTTP 502') } });
    for (let i = 0; i < 2; i++) await runCrawl(deps, t);
    expect(await kinds()).toEqual([]);
    await runCrawl(deps, t);
    await runCrawl(deps, t);
    expect(await kinds()).toEqual(['target_failing']);
    const { BlockedError } = await import('../crawlers/errors.ts');
    setPages({ start: { mentions: [], nextCursor: null, error: new BlockedError('captcha') } });
    await runCrawl(deps, t);
    await runCrawl(deps, t);
    expect(await kinds()).toEqual(['target_failing', 'target_failing']);
    const last = await store.db.selectFrom('outbox').select('payload').where('event_type', '=', 'target.failing').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(last.payload).toMatchObject({ data: { target: { id: 'flaky', state: 'blocked', consecutive_errors: 5, last_error: 'BlockedError: captcha' } } });
  });
});
