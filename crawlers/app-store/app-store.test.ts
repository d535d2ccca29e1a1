import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureHandler, FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { expectResumableCrawl } from '../../tests/helpers/crawl-conformance.ts';
import { SourceChangedError, SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import { createHttpClient } from '../http.ts';
import type { PoliteHttpClient } from '../http.ts';
import type { MentionDraft, RawPage } from '../types.ts';
import { buildReviewsUrl, fetchReviewsPage, readPageCursor } from './fetch.ts';
import { appStore } from './index.ts';
import { parseReviews } from './parse.ts';
import { targetSchema } from './schema.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { catchAsync, catchError } from '../../tests/helpers/catch-error.ts';
import { createFakeClock } from '../../tests/helpers/fake-clock.ts';

const ctx = { fetchedAt: new Date('2025-03-01T12:00:00Z') };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PAGE_1_URL = 'https://itunes.apple.com/us/rss/customerreviews/page=1/id=284815942/sortby=mostrecent/json';

interface Feed {
  feed: { entry?: Record<string, unknown>[] | Record<string, unknown>; link?: unknown } & Record<string, unknown>;
}

function readFixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

function readFeed(name: string): Feed {
  return JSON.parse(readFixtureText(name)) as Feed;
}

function rawPage(body: string, url = PAGE_1_URL, cursor: string | null = null): RawPage {
  return { url, status: 200, contentType: 'text/javascript; charset=utf-8', body, cursor };
}

function parseFeedObject(feed: Feed, url = PAGE_1_URL, cursor: string | null = null) {
  return parseReviews(rawPage(JSON.stringify(feed), url, cursor), ctx);
}

describe('app-store crawler metadata and target', () => {
  it('is wired as the registry expects', () => {
    expect(appStore).toMatchObject({
      id: 'app-store',
      matchKeywords: false,
      stopAtSeen: true,
      maxPages: 10,
      defaultSchedule: '0 */4 * * *',
      rateLimit: { perHostPerSecond: 1 },
      expectedQuietDays: 14,
    });
  });

  it('defaults to the Kazakhstan storefront and validates ids', () => {
    expect(targetSchema.parse({ appId: '1442254006' })).toEqual({
      appId: '1442254006',
      country: 'kz',
      baseUrl: 'https://itunes.apple.com',
    });
    expect(targetSchema.parse({ appId: '1', country: 'RU' }).country).toBe('ru');
    expect(targetSchema.safeParse({ appId: 'id1442254006' }).success).toBe(false);
    expect(targetSchema.safeParse({ appId: '1', country: 'kaz' }).success).toBe(false);
  });

  it('builds the most-recent reviews URL per page and reads cursors', () => {
    const target = targetSchema.parse({ appId: '1442254006', baseUrl: 'http://127.0.0.1:8080/' });
    expect(buildReviewsUrl(target, 3)).toBe(
      'http://127.0.0.1:8080/kz/rss/customerreviews/page=3/id=1442254006/sortby=mostrecent/json',
    );
    expect(readPageCursor(null)).toBe(1);
    expect(readPageCursor('10')).toBe(10);
    expect(() => readPageCursor('11')).toThrow(RangeError);
    expect(() => readPageCursor('abc')).toThrow(RangeError);
  });
});

describe('parseReviews on the recording', () => {
  it('maps the first review of the trimmed page', () => {
    const { mentions, nextCursor } = parseReviews(rawPage(readFixtureText('customerreviews-us-10.json')), ctx);
    expect(mentions).toHaveLength(10);
    expect(nextCursor).toBe('2');
    const first = mentions[0] as MentionDraft;
    expect({ ...first, text: first.text.slice(0, 60) }).toEqual({
      source: 'app-store',
      externalId: '8044879566',
      url: 'https://apps.apple.com/us/app/id284815942?see-all=reviews',
      author: { name: 'Lantana, FL', id: '524855897', url: 'https://itunes.apple.com/us/reviews/id524855897' },
      title: 'Usually interesting reading but',
      text: 'A huge bug is that when I click on that I’m not interested i',
      rating: 4,
      publishedAt: '2021-11-20T17:25:34.000Z',
      lang: null,
      metrics: { votes: 581, likes: 263 },
      reply: null,
      parentExternalId: null,
    });
    expect(first.text.endsWith('go to Tabs to find and continue reading the article.')).toBe(true);
  });

  it('gives 50 unique, stable reviews on the full page', () => {
    const body = readFixtureText('customerreviews-us-full.json');
    const first = parseReviews(rawPage(body), ctx);
    const again = parseReviews(rawPage(body), { fetchedAt: new Date('2030-01-01T00:00:00Z') });
    expect(again).toEqual(first);
    expect(first.mentions).toHaveLength(50);
    expect(new Set(first.mentions.map((m) => m.externalId)).size).toBe(50);
    for (const m of first.mentions) {
      expect(m.externalId).toMatch(/^\d+$/);
      expect([1, 2, 3, 4, 5]).toContain(m.rating);
      expect(m.publishedAt === null || ISO.test(m.publishedAt)).toBe(true);
      expect(m.text.length).toBeGreaterThan(0);
    }
    const histogram = Object.fromEntries([1, 2, 3, 4, 5].map((r) => [r, first.mentions.filter((m) => m.rating === r).length]));
    expect(histogram).toEqual({ 1: 11, 2: 16, 3: 12, 4: 4, 5: 7 });
  });

  it('pages from the cursor, the URL or the feed next link, and stops at page 10', () => {
    const feed = readFeed('customerreviews-us-10.json');
    expect(parseFeedObject(feed, PAGE_1_URL.replace('page=1', 'page=4'), '4').nextCursor).toBe('5');
    expect(parseFeedObject(feed, PAGE_1_URL.replace('page=1', 'page=10'), '10').nextCursor).toBeNull();
    // No page in the URL: the recording's rel=next link points at page 2, so this is page 1.
    const noPage = parseFeedObject(feed, 'https://example.com/reviews.json');
    expect(noPage.nextCursor).toBe('2');
    // Country and app id come from the feed links then.
    expect(noPage.mentions[0]?.url).toBe('https://apps.apple.com/us/app/id284815942?see-all=reviews');
  });

  it('accepts a single review given as an object, not an array', () => {
    const feed = readFeed('customerreviews-us-10.json');
    feed.feed.entry = (feed.feed.entry as Record<string, unknown>[])[2];
    const { mentions } = parseFeedObject(feed);
    expect(mentions.map((m) => m.externalId)).toEqual(['8174836010']);
  });

  it('skips the app entry that old feeds put first', () => {
    const feed = readFeed('customerreviews-us-10.json');
    const appEntry = {
      'im:name': { label: 'Google' },
      'im:image': [{ label: 'https://is1-ssl.mzstatic.com/image/53x53bb.png', attributes: { height: '53' } }],
      id: { label: 'https://apps.apple.com/us/app/google/id284815942', attributes: { 'im:id': '284815942' } },
      title: { label: 'Google - Google LLC' },
    };
    feed.feed.entry = [appEntry, ...(feed.feed.entry as Record<string, unknown>[])];
    const { mentions } = parseFeedObject(feed);
    expect(mentions).toHaveLength(10);
    expect(mentions[0]?.externalId).toBe('8044879566');
  });

  it('returns nothing and no next page for a feed without entries', () => {
    const feed = readFeed('customerreviews-us-10.json');
    delete feed.feed.entry;
    expect(parseFeedObject(feed)).toEqual({ mentions: [], nextCursor: null });
  });

  it('leaves out metrics the entry does not have and dates it null when unreadable', () => {
    const feed = readFeed('customerreviews-us-10.json');
    const entries = feed.feed.entry as Record<string, unknown>[];
    delete entries[0]?.['im:voteSum'];
    delete entries[0]?.['im:voteCount'];
    (entries[0] as { updated: { label: string } }).updated.label = 'yesterday';
    const [first] = parseFeedObject(feed).mentions;
    expect(first?.metrics).toEqual({});
    expect(first?.publishedAt).toBeNull();
  });

  it('throws SourceChangedError naming the path when an entry changed shape', () => {
    const feed = readFeed('customerreviews-us-10.json');
    const entries = feed.feed.entry as Record<string, { label: unknown }>[];
    (entries[3] as { id: { label: unknown } }).id.label = 7466714573;
    const err = catchError(() => parseFeedObject(feed));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).path).toBe('feed.entry[3].id.label');
    expect((err as Error).message).toContain('feed.entry[3].id.label');

    const rating = readFeed('customerreviews-us-10.json');
    ((rating.feed.entry as Record<string, { label: string }>[])[0] as Record<string, { label: string }>)['im:rating'] = { label: 'five' };
    expect((catchError(() => parseFeedObject(rating)) as SourceChangedError).path).toBe('feed.entry[0].im:rating.label');
  });

  it('throws SourceChangedError on JSON of another shape and on non-JSON', () => {
    const other = catchError(() => parseReviews(rawPage('{"results":[]}'), ctx));
    expect(other).toBeInstanceOf(SourceChangedError);
    expect((other as SourceChangedError).path).toBe('feed');
    expect(() => parseReviews(rawPage('<html><body>Service Unavailable</body></html>'), ctx)).toThrow(SourceChangedError);
  });
});

describe('fetchReviewsPage end to end', () => {
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  afterEach(async () => {
    await server?.close();
    await http?.close();
  });

  it('walks pages 1..3 from a local server, waiting out a 429 on page 1', async () => {
    const full = readFeed('customerreviews-us-full.json');
    const entries = full.feed.entry as Record<string, unknown>[];
    const page = (slice: Record<string, unknown>[] | undefined): string => {
      const copy = structuredClone(full);
      if (slice) copy.feed.entry = slice;
      else delete copy.feed.entry;
      return JSON.stringify(copy);
    };
    const path = (n: number) => `/kz/rss/customerreviews/page=${n}/id=284815942/sortby=mostrecent/json`;
    const json = { 'content-type': 'text/javascript; charset=utf-8' };
    server = await startFixtureServer({
      [path(1)]: [
        { status: 429, headers: { 'retry-after': '3' }, body: 'Too Many Requests' },
        { headers: json, body: page(entries.slice(0, 25)) },
      ],
      [path(2)]: { headers: json, body: page(entries.slice(25)) },
      [path(3)]: { headers: json, body: page(undefined) },
    });
    const clock = createFakeClock();
    const { sleeps } = clock;
    http = createHttpClient({
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
    });

    const target = targetSchema.parse({ appId: '284815942', baseUrl: server.url });
    const collected: MentionDraft[] = [];
    let cursor: string | null = null;
    let fetched = 0;
    do {
      const raw = await appStore.fetchPage(target, cursor, fetchDeps(http));
      expect(raw.cursor).toBe(cursor);
      const parsed = appStore.parse(raw, ctx);
      collected.push(...parsed.mentions);
      cursor = parsed.nextCursor;
      fetched += 1;
    } while (cursor !== null && fetched < appStore.maxPages);

    expect(fetched).toBe(3);
    expect(collected).toHaveLength(50);
    expect(new Set(collected.map((m) => m.externalId)).size).toBe(50);
    // The storefront comes from the requested URL, not from the recording's own `us` links.
    expect(collected[0]?.url).toBe('https://apps.apple.com/kz/app/id284815942?see-all=reviews');
    expect(server.requests.map((r) => r.path)).toEqual([path(1), path(1), path(2), path(3)]);
    expect(server.requests[0]?.headers['accept']).toBe('application/json');
    // 3 s Retry-After, then one-per-second spacing between the pages.
    expect(sleeps).toEqual([3_000, 1_000, 1_000]);
  });

  it('asks the lookup when page 1 has no reviews: an id the storefront does not have is an unusable target', async () => {
    const empty = readFeed('customerreviews-us-10.json');
    delete empty.feed.entry;
    const json = { 'content-type': 'text/javascript; charset=utf-8' };
    const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
    server = await startFixtureServer({
      '/kz/rss/customerreviews/page=1/id=999999999/sortby=mostrecent/json': { headers: json, body: JSON.stringify(empty) },
      '/kz/rss/customerreviews/page=1/id=284815942/sortby=mostrecent/json': { headers: json, body: JSON.stringify(empty) },
      '/lookup?id=999999999&country=kz': { headers: json, file: fixture('constructed-lookup-none.json') },
      '/lookup?id=284815942&country=kz': { headers: json, file: fixture('constructed-lookup-found.json') },
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const deps = fetchDeps(http);

    const unknown = await catchAsync(fetchReviewsPage(targetSchema.parse({ appId: '999999999', baseUrl: server.url }), null, deps));
    expect(unknown).toBeInstanceOf(TargetUnusableError);
    expect((unknown as Error).message).toBe(
      'the App Store has no app with id 999999999 in its "kz" storefront (the lookup finds none): ' +
        'check targets[].params.appId (the digits after "id" in the app\'s URL) and targets[].params.country',
    );
    expect(server.requests.at(-1)?.query).toEqual({ id: '999999999', country: 'kz', entity: 'software' });

    // An app the storefront has, with no review there yet: an empty page, and the lookup is not asked twice.
    const known = targetSchema.parse({ appId: '284815942', baseUrl: server.url });
    expect(parseReviews(await fetchReviewsPage(known, null, deps), ctx)).toEqual({ mentions: [], nextCursor: null });
    await fetchReviewsPage(known, null, deps);
    expect(server.requests.filter((r) => r.path === '/lookup').map((r) => r.query['id'])).toEqual(['999999999', '284815942']);
  });

  it('asks the lookup when the feed refuses page 1, and keeps the refusal an outage for an app that exists', async () => {
    const json = { 'content-type': 'text/javascript; charset=utf-8' };
    const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
    server = await startFixtureServer({
      '/kz/rss/customerreviews/page=1/id=999999999/sortby=mostrecent/json': { status: 404, body: 'Not Found' },
      '/kz/rss/customerreviews/page=1/id=284815942/sortby=mostrecent/json': { status: 404, body: 'Not Found' },
      '/lookup?id=999999999&country=kz': { headers: json, file: fixture('constructed-lookup-none.json') },
      '/lookup?id=284815942&country=kz': { headers: json, file: fixture('constructed-lookup-found.json') },
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const unknown = await catchAsync(fetchReviewsPage(targetSchema.parse({ appId: '999999999', baseUrl: server.url }), null, fetchDeps(http)));
    expect(unknown).toBeInstanceOf(TargetUnusableError);
    const known = await catchAsync(fetchReviewsPage(targetSchema.parse({ appId: '284815942', baseUrl: server.url }), null, fetchDeps(http)));
    expect(known).toBeInstanceOf(SourceUnavailableError);
    expect((known as SourceUnavailableError).status).toBe(404);
  });

  it('fetches through the exported fetch function with the target country', async () => {
    server = await startFixtureServer({
      '/us/rss/customerreviews/page=2/id=284815942/sortby=mostrecent/json': {
        file: new URL('./fixtures/customerreviews-us-10.json', import.meta.url).pathname,
      },
    });
    http = createHttpClient({ sleep: async () => undefined });
    const raw = await fetchReviewsPage({ appId: '284815942', country: 'us', baseUrl: server.url }, '2', fetchDeps(http));
    const parsed = parseReviews(raw, ctx);
    expect(parsed.mentions).toHaveLength(10);
    expect(parsed.nextCursor).toBe('3');
  });
});

describe('a crawl interrupted at any page', () => {
  it('ends, once re-run, with the mentions of a clean crawl and nothing twice', async () => {
    const feed = readFeed('customerreviews-us-full.json');
    const entries = (feed.feed.entry as Record<string, unknown>[]).filter((e) => 'im:rating' in e);
    const pageOf = (page: number) => entries.slice((page - 1) * 20, page * 20);
    const report = await expectResumableCrawl({
      source: 'app-store',
      params: (server) => ({ appId: '284815942', country: 'kz', baseUrl: server.url }),
      serve: (onPage) => {
        const routes: Record<string, FixtureHandler> = {};
        for (let page = 1; page <= 10; page++) {
          routes[`/kz/rss/customerreviews/page=${page}/id=284815942/sortby=mostrecent/json`] = (_req, res) => {
            onPage();
            const slice = pageOf(page);
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ feed: { ...feed.feed, entry: slice.length > 0 ? slice : undefined } }));
          };
        }
        return startFixtureServer(routes);
      },
    });
    expect(report).toMatchObject({ pages: 4, mentions: 50 });
  });
});
