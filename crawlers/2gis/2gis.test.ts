import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectResumableCrawl } from '../../tests/helpers/crawl-conformance.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureRoutes, FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { expectGolden } from '../../tests/helpers/golden.ts';
import { createTestStore } from '../../tests/helpers/test-store.ts';
import { silentLogger } from '../../log/logger.ts';
import { runCrawl } from '../../scheduler/run-crawl.ts';
import type { CrawlDeps, CrawlTarget } from '../../scheduler/run-crawl.ts';
import { upsertBrand } from '../../store/brands.ts';
import type { Store } from '../../store/connect.ts';
import { findTarget, upsertTarget } from '../../store/targets.ts';
import {
  BlockedError,
  RateLimitedError,
  SourceChangedError,
  SourceUnavailableError,
  TargetUnusableError,
} from '../errors.ts';
import { createHttpClient } from '../http.ts';
import type { PoliteHttpClient } from '../http.ts';
import type { MentionDraft, RawPage } from '../types.ts';
import { buildReviewsUrl, fetchReviewsPage, firmPageUrl, publicSite } from './fetch.ts';
import { twoGis } from './index.ts';
import { extractReviewApiConfig, parseReviews } from './parse.ts';
import { targetSchema } from './schema.ts';
import { catchAsync, catchError } from '../../tests/helpers/catch-error.ts';
import { createFakeClock } from '../../tests/helpers/fake-clock.ts';
import { testCrawlDeps } from '../../tests/helpers/crawl-deps.ts';
import { basicTicketPolicy } from '../../pipeline/ticket-policy.ts';

const BRANCH = '70000001000000042';
const REAL_KEY = '6e7e1929-4ea9-4a5d-8c05-d601860389bd';
const NEW_KEY = '0f0f0f0f-1111-4222-8333-444455556666';
const API_PATH = `/3.0/branches/${BRANCH}/reviews`;
const FIRM_PATH = `/almaty/firm/${BRANCH}`;
const PAGE_2_OFFSET = '2026-07-13T18:02:59.330017+05:00';
const REVIEWS_PAGE = 'https://2gis.kz/almaty/firm/70000001000000042/tab/reviews';
// What fetch returns as RawPage.url: the request without its key, and the public site in the fragment.
const PAGE_URL = `https://public-api.reviews.2gis.com${API_PATH}?limit=50&sort_by=date_created&locale=ru_KZ&key=***#site=https://2gis.kz/almaty`;
// Page 1 is all inside the last 48 h at RECENT; everything is older than 48 h at LATER.
const RECENT = new Date('2026-07-15T12:00:00Z');
const LATER = new Date('2026-07-25T00:00:00Z');
const ctx = { fetchedAt: RECENT };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface ReviewJson extends Record<string, unknown> {
  id: string;
  date_created: string;
}
interface PageJson {
  meta: Record<string, unknown>;
  reviews: ReviewJson[];
}

function readFixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

function readPage(name: string): PageJson {
  return JSON.parse(readFixtureText(name)) as PageJson;
}

const firmPage = readFixtureText('firm-page-2gis-ae.html');
const firmPageWithNewKey = firmPage.replace(REAL_KEY, NEW_KEY);

function rawPage(body: string, url = PAGE_URL, cursor: string | null = null): RawPage {
  return { url, status: 200, contentType: 'application/json; charset=utf-8', body, cursor };
}

function parsePage(page: PageJson, url = PAGE_URL, cursor: string | null = null) {
  return parseReviews(rawPage(JSON.stringify(page), url, cursor), ctx);
}

const json = { 'content-type': 'application/json; charset=utf-8' };
const html = { 'content-type': 'text/html; charset=utf-8' };
const page2Route = `${API_PATH}?${new URLSearchParams({ offset_date: PAGE_2_OFFSET })}`;

/** The firm page and the two reviews pages, as the local server replays them. */
function baseRoutes(pages: { one?: PageJson; two?: PageJson } = {}): FixtureRoutes {
  return {
    [FIRM_PATH]: { headers: html, body: firmPage },
    [API_PATH]: { headers: json, body: JSON.stringify(pages.one ?? readPage('constructed-reviews-page-1.json')) },
    [page2Route]: { headers: json, body: JSON.stringify(pages.two ?? readPage('constructed-reviews-page-2.json')) },
  };
}

function paramsFor(server: FixtureServer, extra: Record<string, unknown> = {}) {
  return { branchId: BRANCH, city: 'almaty', baseUrl: server.url, reviewsApiUrl: `${server.url}/3.0/`, ...extra };
}

describe('2gis crawler metadata and target', () => {
  it('is wired as the registry expects', () => {
    expect(twoGis).toMatchObject({
      id: '2gis',
      defaultSchedule: '20 */4 * * *',
      rateLimit: { perHostPerSecond: 1 },
      expectedQuietDays: 30,
      matchKeywords: false,
      stopAtSeen: true,
      recheckHours: 48,
      maxPages: 40,
    });
  });

  it('defaults to 2gis.kz in Russian and checks ids, domains and slugs', () => {
    expect(targetSchema.parse({ branchId: BRANCH })).toEqual({ branchId: BRANCH, domain: '2gis.kz', locale: 'ru_KZ' });
    expect(targetSchema.safeParse({ branchId: 'https://2gis.kz/firm/1' }).success).toBe(false);
    expect(targetSchema.safeParse({ branchId: BRANCH, domain: '2gis.com' }).success).toBe(false);
    expect(targetSchema.safeParse({ branchId: BRANCH, locale: 'ru' }).success).toBe(false);
    expect(targetSchema.safeParse({ branchId: BRANCH, city: 'Almaty City' }).success).toBe(false);
  });

  it('builds firm page, public site and reviews URLs, laying the cursor over the defaults without its key', () => {
    const plain = targetSchema.parse({ branchId: BRANCH, domain: '2gis.ae', locale: 'en_AE' });
    expect(firmPageUrl(plain)).toBe(`https://2gis.ae/firm/${BRANCH}`);
    expect(publicSite(plain)).toBe('https://2gis.ae');
    const city = targetSchema.parse({ branchId: BRANCH, city: 'almaty', baseUrl: 'http://127.0.0.1:9/' });
    expect(firmPageUrl(city)).toBe(`http://127.0.0.1:9/almaty/firm/${BRANCH}`);
    expect(publicSite(city)).toBe('https://2gis.kz/almaty');

    const first = buildReviewsUrl(plain, 'https://public-api.reviews.2gis.com/3.0/', null);
    expect(first.origin + first.pathname).toBe(`https://public-api.reviews.2gis.com${API_PATH}`);
    expect(Object.fromEntries(first.searchParams)).toEqual({
      limit: '50',
      is_advertiser: 'false',
      fields: 'meta.providers,meta.branch_rating,meta.branch_reviews_count,meta.total_count,reviews.hiding_reason,reviews.is_verified',
      without_my_first_review: 'false',
      rated: 'true',
      sort_by: 'date_created',
      locale: 'en_AE',
    });
    const next = buildReviewsUrl(plain, 'https://public-api.reviews.2gis.com/3.0/', `https://elsewhere.example/x?offset_date=${encodeURIComponent(PAGE_2_OFFSET)}&key=old&limit=20`);
    expect(next.origin).toBe('https://public-api.reviews.2gis.com');
    expect(next.searchParams.get('offset_date')).toBe(PAGE_2_OFFSET);
    expect(next.searchParams.get('limit')).toBe('20');
    expect(next.searchParams.has('key')).toBe(false);
    const mirror = buildReviewsUrl({ ...plain, reviewsApiUrl: 'http://mirror.example/reviews/3.0/' }, 'https://public-api.reviews.2gis.com/3.0/', null);
    expect(mirror.href.startsWith(`http://mirror.example/reviews/3.0/branches/${BRANCH}/reviews?`)).toBe(true);
    expect(() => buildReviewsUrl(plain, 'https://public-api.reviews.2gis.com/3.0/', 'offset 2')).toThrow(RangeError);
  });
});

describe('reading the review key from the real firm page', () => {
  it('finds the key and the 3.0 API root in __customcfg', () => {
    expect(extractReviewApiConfig(firmPage)).toEqual({ key: REAL_KEY, apiUrl: 'https://public-api.reviews.2gis.com/3.0/' });
  });

  it('falls back to the 2.0 root when the config names no 3.0 root', () => {
    const page = firmPage.replace('"reviewApi3Url":"https://public-api.reviews.2gis.com/3.0/",', '');
    expect(extractReviewApiConfig(page).apiUrl).toBe('https://public-api.reviews.2gis.com/2.0/');
  });

  it('reads JS string escapes of the literal the way the browser does', () => {
    const page = `<script>var __customcfg = JSON.parse('{"reviewApiKey":"k-1234567","reviewApiUrl":"https:\\/\\/r.example\\/2.0","q":"it\\'s \\\\u0022x\\\\u0022"}');</script>`;
    expect(extractReviewApiConfig(page)).toEqual({ key: 'k-1234567', apiUrl: 'https://r.example/2.0/' });
  });

  it('names what is missing when the page changed, and calls a captcha a block', () => {
    const noConfig = catchError(() => extractReviewApiConfig(firmPage.replace('__customcfg', '__otherConfig')));
    expect(noConfig).toBeInstanceOf(SourceChangedError);
    expect((noConfig as SourceChangedError).path).toBe('__customcfg');

    const noKey = catchError(() => extractReviewApiConfig(firmPage.replace('"reviewApiKey"', '"reviewKey"')));
    expect(noKey).toBeInstanceOf(SourceChangedError);
    expect((noKey as SourceChangedError).path).toBe('__customcfg.reviewApiKey');
    expect((noKey as Error).message).toContain('__customcfg.reviewApiKey');

    const noApi = firmPage.replace('"reviewApiUrl"', '"reviewApiUrlOld"').replace('"reviewApi3Url"', '"reviewApi3UrlOld"');
    expect((catchError(() => extractReviewApiConfig(noApi)) as SourceChangedError).path).toBe('__customcfg.reviewApi3Url');

    const broken = catchError(() => extractReviewApiConfig(`<script>var __customcfg = JSON.parse('{"reviewApiKey":');</script>`));
    expect(broken).toBeInstanceOf(SourceChangedError);

    // Constructed here: no 2GIS captcha page is recorded anywhere.
    const captcha = '<html><head><title>Проверка</title></head><body><p>Подтвердите, что вы не робот</p></body></html>';
    expect(catchError(() => extractReviewApiConfig(captcha))).toBeInstanceOf(BlockedError);
  });
});

describe('parseReviews on the constructed pages', () => {
  it('maps page 1: every field of the first review, the answered 1★ review and the cursor without the key', () => {
    const parsed = parseReviews(rawPage(readFixtureText('constructed-reviews-page-1.json')), ctx);
    expectGolden(parsed, new URL('./fixtures/constructed-reviews-page-1.golden.json', import.meta.url));
    const { mentions, nextCursor } = parsed;
    expect(mentions.map((m) => m.externalId)).toEqual(['230000115', '230000114', '230000113', '230000112', '230000111']);
    expect(mentions[0]).toEqual({
      source: '2gis',
      externalId: '230000115',
      url: REVIEWS_PAGE,
      author: { name: 'Айгерим' },
      title: null,
      text: 'Быстро обслужили, кофе горячий, персонал вежливый.',
      rating: 5,
      publishedAt: '2026-07-15T08:40:12.481Z',
      lang: null,
      metrics: { likes: 2, comments: 0 },
      reply: null,
      parentExternalId: null,
      details: { verified: true, place: BRANCH },
    } satisfies MentionDraft);
    expect(mentions[1]).toMatchObject({
      rating: 1,
      reply: { text: 'Приносим извинения за ожидание. Разберёмся со сменой и свяжемся с вами.', at: '2026-07-15T06:30:04.215Z' },
      details: { verified: false },
    });
    expect(mentions.map((m) => m.rating)).toEqual([5, 1, 2, 5, 3]);
    expect(mentions[3]?.metrics).toEqual({ likes: 7, comments: 1 });
    for (const m of mentions) expect(m.publishedAt).toMatch(ISO);

    const cursor = new URL(nextCursor ?? '');
    expect(cursor.searchParams.get('offset_date')).toBe(PAGE_2_OFFSET);
    expect(cursor.searchParams.has('key')).toBe(false);
    expect(nextCursor).not.toContain(REAL_KEY);
  });

  it('maps page 2, the last one: no cursor, and an edited review keeps its creation date', () => {
    const parsed = parseReviews(rawPage(readFixtureText('constructed-reviews-page-2.json')), ctx);
    expectGolden(parsed, new URL('./fixtures/constructed-reviews-page-2.golden.json', import.meta.url));
    expect(parsed.nextCursor).toBeNull();
    expect(parsed.mentions.map((m) => m.externalId)).toEqual(['230000110', '230000109', '230000108', '230000107']);
    expect(parsed.mentions[3]?.publishedAt).toBe('2026-06-28T11:55:02.440Z');
    expect(parsed.mentions[2]?.reply).toEqual({ text: 'Рады, что понравилось! Ждём вас снова.', at: '2026-07-02T10:00:41.118Z' });
  });

  it('links reviews from the locale of a recording, and to nothing from a bare file', () => {
    const page = readPage('constructed-reviews-page-2.json');
    const recorded = parsePage(page, `https://public-api.reviews.2gis.com${API_PATH}?locale=ru_KG&key=***`);
    expect(recorded.mentions[0]?.url).toBe(`https://2gis.kg/firm/${BRANCH}/tab/reviews`);
    expect(recorded.mentions[0]?.details).toEqual({ verified: true, place: BRANCH });
    const foreign = parsePage(page, `https://public-api.reviews.2gis.com${API_PATH}?locale=en_US`);
    expect(foreign.mentions[0]?.url).toBeNull();
    const bare = parsePage(page, 'file:///tmp/constructed-reviews-page-2.json');
    expect(bare.mentions).toHaveLength(4);
    expect(bare.mentions[0]?.url).toBeNull();
    expect(bare.mentions[0]?.details).toEqual({ verified: true });
  });

  it('leaves out reviews hidden by 2GIS and the repeated review a page starts from', () => {
    const page = readPage('constructed-reviews-page-2.json');
    page.reviews[1] = { ...page.reviews[1]!, is_hidden: true, hiding_reason: 'spam' };
    expect(parsePage(page).mentions.map((m) => m.externalId)).toEqual(['230000110', '230000108', '230000107']);

    const repeated = readPage('constructed-reviews-page-2.json');
    const boundary = readPage('constructed-reviews-page-1.json').reviews[4]!;
    repeated.reviews.unshift(boundary);
    const cursor = `https://public-api.reviews.2gis.com${API_PATH}?offset_date=${encodeURIComponent(PAGE_2_OFFSET)}`;
    expect(parsePage(repeated, PAGE_URL, cursor).mentions.map((m) => m.externalId)).toEqual(['230000110', '230000109', '230000108', '230000107']);
    expect(parsePage(repeated).mentions[0]?.externalId).toBe('230000111');
  });

  it('gives nothing and no next page for a page without reviews, even with a next link', () => {
    const page = readPage('constructed-reviews-page-1.json');
    page.reviews = [];
    expect(parsePage(page)).toEqual({ mentions: [], nextCursor: null });
    expect(parseReviews(rawPage(readFixtureText('constructed-reviews-empty.json')), ctx)).toEqual({ mentions: [], nextCursor: null });
  });

  it('leaves out absent metrics, an empty answer and an answer date it cannot read', () => {
    const page = readPage('constructed-reviews-page-2.json');
    const [first, , third] = page.reviews;
    delete first!.likes_count;
    delete first!.comments_count;
    delete first!.is_verified;
    first!.user = null;
    first!.official_answer = { text: '  ', date_created: null };
    third!.official_answer = { text: 'Спасибо!', date_created: 'вчера' };
    const { mentions } = parsePage(page);
    expect(mentions[0]).toMatchObject({ author: { name: null }, metrics: {}, reply: null, details: { place: BRANCH } });
    expect(mentions[0]?.details).not.toHaveProperty('verified');
    expect(mentions[2]?.reply).toEqual({ text: 'Спасибо!', at: null });
  });

  it('throws SourceChangedError naming the path when a review changed shape', () => {
    const cases: [(page: PageJson) => void, string][] = [
      [(p) => void (p.reviews[2]!.date_created = 1_752_000_000 as unknown as string), 'reviews[2].date_created'],
      [(p) => void (p.reviews[2]!.date_created = 'позавчера'), 'reviews[2].date_created'],
      [(p) => void (p.reviews[0]!.rating = 'five'), 'reviews[0].rating'],
      [(p) => void (p.reviews[1]!.rating = 7), 'reviews[1].rating'],
      [(p) => void delete (p.reviews[3] as Partial<ReviewJson>).id, 'reviews[3].id'],
      [(p) => void (p.reviews[4]!.text = null), 'reviews[4].text'],
      [(p) => void ((p as unknown as Record<string, unknown>).reviews = { items: [] }), 'reviews'],
      [(p) => void (p.meta.next_link = 'http://['), 'meta.next_link'],
    ];
    for (const [mutate, path] of cases) {
      const page = readPage('constructed-reviews-page-1.json');
      mutate(page);
      const err = catchError(() => parsePage(page));
      expect(err, path).toBeInstanceOf(SourceChangedError);
      expect((err as SourceChangedError).path).toBe(path);
      expect((err as Error).message).toContain(path);
    }
    expect(() => parseReviews(rawPage('<html><body>Ошибка</body></html>'), ctx)).toThrow(SourceChangedError);
  });

  it('classifies error answers by meta.code', () => {
    const answer = (code: number) => JSON.stringify({ meta: { code, error: { message: 'x' } } });
    expect(catchError(() => parseReviews(rawPage(readFixtureText('constructed-key-rejected.json')), ctx))).toBeInstanceOf(BlockedError);
    expect(catchError(() => parseReviews(rawPage(answer(404)), ctx))).toBeInstanceOf(TargetUnusableError);
    expect(catchError(() => parseReviews(rawPage(answer(429)), ctx))).toBeInstanceOf(RateLimitedError);
    expect(catchError(() => parseReviews(rawPage(answer(502)), ctx))).toBeInstanceOf(SourceUnavailableError);
    expect((catchError(() => parseReviews(rawPage(answer(400)), ctx)) as SourceChangedError).path).toBe('meta.code');
  });
});

describe('fetchReviewsPage against a local server', () => {
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  afterEach(async () => {
    await server?.close();
    await http?.close();
    server = undefined;
  });
  const quickHttp = () => (http = createHttpClient({ perHostPerSecond: 0, retries: 0 }));

  it('reads the key once, sends it to the API, and keeps it out of the page URL', async () => {
    server = await startFixtureServer(baseRoutes());
    const deps = fetchDeps(quickHttp());
    const target = targetSchema.parse(paramsFor(server));
    const first = await fetchReviewsPage(target, null, deps);
    const parsed = parseReviews(first, ctx);
    const second = await fetchReviewsPage(target, parsed.nextCursor, deps);
    expect(parseReviews(second, ctx).mentions).toHaveLength(4);

    expect(server.requests.map((r) => r.path)).toEqual([FIRM_PATH, API_PATH, API_PATH]);
    const [, page1, page2] = server.requests;
    expect(page1?.query).toMatchObject({ key: REAL_KEY, sort_by: 'date_created', locale: 'ru_KZ', limit: '50', rated: 'true' });
    expect(page1?.headers['referer']).toBe('https://2gis.kz/');
    expect(page2?.query).toMatchObject({ key: REAL_KEY, offset_date: PAGE_2_OFFSET });
    expect(server.requests[0]?.headers['accept']).toBe('text/html');

    expect(first.url).not.toContain(REAL_KEY);
    expect(first.url).toContain('key=***');
    expect(first.url.endsWith('#site=https://2gis.kz/almaty')).toBe(true);
    expect(second.cursor).toBe(parsed.nextCursor);
    expect(parsed.mentions[0]?.url).toBe(REVIEWS_PAGE);
    expect(deps.cache.get(`review-api:${server.url}`)).toEqual({ key: REAL_KEY, apiUrl: 'https://public-api.reviews.2gis.com/3.0/' });
  });

  it.each([
    ['HTTP 403', { status: 403, headers: json, body: readFixtureText('constructed-key-rejected.json') }],
    ['HTTP 401', { status: 401, headers: json, body: readFixtureText('constructed-key-rejected.json') }],
    ['meta.code 403 in a 200 answer', { status: 200, headers: json, body: readFixtureText('constructed-key-rejected.json') }],
  ])('re-reads the firm page once when the API refuses a cached key (%s), then uses the new key', async (_name, refusal) => {
    server = await startFixtureServer({
      ...baseRoutes(),
      [FIRM_PATH]: { headers: html, body: firmPageWithNewKey },
      [`${API_PATH}?key=${REAL_KEY}`]: refusal,
    });
    const deps = fetchDeps(quickHttp());
    const target = targetSchema.parse(paramsFor(server));
    deps.cache.set(`review-api:${server.url}`, { key: REAL_KEY, apiUrl: 'https://public-api.reviews.2gis.com/3.0/' });
    const raw = await fetchReviewsPage(target, null, deps);
    expect(parseReviews(raw, ctx).mentions).toHaveLength(5);
    expect(server.requests.map((r) => [r.path, r.query['key'] ?? null])).toEqual([
      [API_PATH, REAL_KEY],
      [FIRM_PATH, null],
      [API_PATH, NEW_KEY],
    ]);
    expect(deps.cache.get(`review-api:${server.url}`)).toMatchObject({ key: NEW_KEY });
  });

  it('is blocked when the firm page still names the refused key, or a key just read is refused', async () => {
    server = await startFixtureServer({
      ...baseRoutes(),
      [API_PATH]: { status: 403, headers: json, body: readFixtureText('constructed-key-rejected.json') },
    });
    const target = targetSchema.parse(paramsFor(server));
    const cachedDeps = fetchDeps(quickHttp());
    cachedDeps.cache.set(`review-api:${server.url}`, { key: REAL_KEY, apiUrl: 'https://public-api.reviews.2gis.com/3.0/' });
    const stale = await catchAsync(fetchReviewsPage(target, null, cachedDeps));
    expect(stale).toBeInstanceOf(BlockedError);
    expect((stale as Error).message).not.toContain(REAL_KEY);
    expect(server.requests.map((r) => r.path)).toEqual([API_PATH, FIRM_PATH]);

    server.requests.length = 0;
    const fresh = await catchAsync(fetchReviewsPage(target, null, fetchDeps(http!)));
    expect(fresh).toBeInstanceOf(BlockedError);
    expect((fresh as Error).message).not.toContain(REAL_KEY);
    // A key read a moment ago is not read again: the firm page would name the same one.
    expect(server.requests.map((r) => r.path)).toEqual([FIRM_PATH, API_PATH]);
  });

  it('says "check branchId" only when the firm page is missing too: a 404 from the reviews API alone is the API', async () => {
    server = await startFixtureServer({
      [FIRM_PATH]: { headers: html, body: firmPage },
      [API_PATH]: { status: 404, headers: json, body: '{}' },
      [`/almaty/firm/70000009999999999`]: { status: 404, headers: html, body: '<html><title>Not found</title></html>' },
    });
    const target = targetSchema.parse(paramsFor(server));
    const moved = await catchAsync(fetchReviewsPage(target, null, fetchDeps(quickHttp())));
    expect(moved).toBeInstanceOf(SourceChangedError);
    expect((moved as Error).message).toMatch(/firm page exists/);
    expect((moved as Error).message).not.toMatch(/check branchId/);
    const missing = targetSchema.parse(paramsFor(server, { branchId: '70000009999999999' }));
    expect(await catchAsync(fetchReviewsPage(missing, null, fetchDeps(http!)))).toBeInstanceOf(TargetUnusableError);
  });

  it('turns a 400 and an error meta.code into the matching errors', async () => {
    const deps = () => fetchDeps(http!);
    server = await startFixtureServer({ ...baseRoutes(), [API_PATH]: { status: 400, headers: json, body: '{}' } });
    quickHttp();
    expect(await catchAsync(fetchReviewsPage(targetSchema.parse(paramsFor(server)), null, deps()))).toBeInstanceOf(SourceChangedError);
    await server.close();
    server = await startFixtureServer({ ...baseRoutes(), [API_PATH]: { headers: json, body: '{"meta":{"code":404}}' } });
    expect(await catchAsync(fetchReviewsPage(targetSchema.parse(paramsFor(server)), null, deps()))).toBeInstanceOf(TargetUnusableError);
  });

  it('waits out a 429 with Retry-After on the reviews API', async () => {
    server = await startFixtureServer({
      ...baseRoutes(),
      [API_PATH]: [
        { status: 429, headers: { 'retry-after': '7' }, body: 'Too Many Requests' },
        { headers: json, body: readFixtureText('constructed-reviews-page-1.json') },
      ],
    });
    const clock = createFakeClock();
    http = createHttpClient({ perHostPerSecond: 0, now: clock.now, sleep: clock.sleep });
    const raw = await fetchReviewsPage(targetSchema.parse(paramsFor(server)), null, fetchDeps(http));
    expect(parseReviews(raw, ctx).mentions).toHaveLength(5);
    expect(clock.sleeps).toEqual([7_000]);
  });
});

describe('2gis crawls end to end', () => {
  // A store per test: review ids are unique per source, whatever the target.
  let store: Store;
  const servers: FixtureServer[] = [];
  const clients: PoliteHttpClient[] = [];
  beforeEach(async () => {
    store = await createTestStore();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await store?.close();
  });

  async function serve(routes: FixtureRoutes): Promise<FixtureServer> {
    const server = await startFixtureServer(routes);
    servers.push(server);
    return server;
  }

  /** One target and the deps of a long-running process: the cache lives as long as these deps. */
  async function setUp(id: string, server: FixtureServer, clock: { now: Date }, http = createHttpClient({ perHostPerSecond: 0, retries: 0 })) {
    clients.push(http);
    const brand = await upsertBrand(store.db, { name: 'Acme Coffee', keywords: ['acme'] }, clock.now);
    const target: CrawlTarget = { id, source: '2gis', params: paramsFor(server), brands: [brand], team: 'almaty' };
    await upsertTarget(store.db, { id, source: '2gis', brandIds: [brand.id], params: target.params as Record<string, unknown>, schedule: '20 */4 * * *', enabled: true }, clock.now);
    const deps = testCrawlDeps(store.db, {
      httpFor: () => http,
      now: () => clock.now,
      log: silentLogger,
      policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }),
    });
    return { crawl: () => runCrawl(deps, target) };
  }

  async function mentionsOf(targetId: string) {
    return store.db
      .selectFrom('mentions')
      .select(['id', 'external_id', 'actionable', 'reply', 'rating', 'url'])
      .where('target_id', '=', targetId)
      .orderBy('external_id', 'desc')
      .execute();
  }

  async function ticketedIds(targetId: string) {
    const rows = await store.db
      .selectFrom('tickets')
      .innerJoin('mentions', 'mentions.id', 'tickets.mention_id')
      .select(['mentions.external_id', 'tickets.team'])
      .where('mentions.target_id', '=', targetId)
      .orderBy('mentions.external_id', 'desc')
      .execute();
    return rows.map((r) => `${r.external_id}@${r.team}`);
  }

  it('pages through both pages, opens tickets for unanswered low ratings only, and stops at known reviews', async () => {
    const server = await serve(baseRoutes());
    const clock = { now: LATER };
    const { crawl } = await setUp('2gis-paging', server, clock);

    expect(await crawl()).toMatchObject({ status: 'ok', pages: 2, fetched: 9, new: 9, updated: 0, tickets: 2 });
    const stored = await mentionsOf('2gis-paging');
    expect(stored).toHaveLength(9);
    expect(stored.every((m) => m.url === REVIEWS_PAGE)).toBe(true);
    // The 1★ review already answered by the brand needs no ticket.
    expect(stored.find((m) => m.external_id === '230000114')).toMatchObject({ rating: 1, actionable: false });
    expect(await ticketedIds('2gis-paging')).toEqual(['230000113@almaty', '230000109@almaty']);

    clock.now = new Date(LATER.getTime() + 4 * 3_600_000);
    expect(await crawl()).toMatchObject({ status: 'ok', pages: 1, new: 0, updated: 0, tickets: 0 });
    // The key was read once for both crawls: the firm page is fetched once.
    expect(server.requests.filter((r) => r.path === FIRM_PATH)).toHaveLength(1);
    expect(server.requests.map((r) => r.path)).toEqual([FIRM_PATH, API_PATH, API_PATH, API_PATH]);
    expect((await findTarget(store.db, '2gis-paging'))?.state).toBe('ok');
  });

  it('picks up an edit and a new official answer within 48 h on the next crawl', async () => {
    const edited = readPage('constructed-reviews-page-1.json');
    const review = edited.reviews[2]!;
    review.text = 'Столики липкие, в зале душно. Дополню: кондиционер так и не включили.';
    review.date_edited = '2026-07-15T14:20:00.000000+05:00';
    review.official_answer = { text: 'Спасибо, что написали. Кондиционер уже чинят.', date_created: '2026-07-15T14:45:10.500000+05:00' };
    const page1 = [
      { headers: json, body: readFixtureText('constructed-reviews-page-1.json') },
      { headers: json, body: JSON.stringify(edited) },
    ];
    const server = await serve({ ...baseRoutes(), [API_PATH]: page1 });
    const clock = { now: RECENT };
    const { crawl } = await setUp('2gis-recheck', server, clock);

    expect(await crawl()).toMatchObject({ status: 'ok', pages: 2, new: 9, tickets: 2 });
    expect((await mentionsOf('2gis-recheck')).find((m) => m.external_id === '230000113')).toMatchObject({ actionable: true, reply: null });

    clock.now = new Date(RECENT.getTime() + 30 * 60_000);
    // Page 1 lies inside the last 48 h, so it is read again although known; page 2 is older and known: stop.
    expect(await crawl()).toMatchObject({ status: 'ok', pages: 2, new: 0, updated: 1, tickets: 0 });
    const after = (await mentionsOf('2gis-recheck')).find((m) => m.external_id === '230000113');
    expect(after).toMatchObject({ actionable: false, reply: { text: 'Спасибо, что написали. Кондиционер уже чинят.', at: '2026-07-15T09:45:10.500Z' } });
    // The ticket opened before the answer stays; no new ticket for the answered reviews.
    expect(await ticketedIds('2gis-recheck')).toEqual(['230000113@almaty', '230000109@almaty']);

    // Two days on, nothing is recent any more: one page, nothing new.
    clock.now = new Date(RECENT.getTime() + 3 * 24 * 3_600_000);
    expect(await crawl()).toMatchObject({ status: 'ok', pages: 1, new: 0, updated: 0 });
  });

  it('refreshes a refused key between crawls and carries on', async () => {
    let refuse = false;
    const page1 = readFixtureText('constructed-reviews-page-1.json');
    const server = await serve({
      ...baseRoutes(),
      [FIRM_PATH]: [
        { headers: html, body: firmPage },
        { headers: html, body: firmPageWithNewKey },
      ],
      [API_PATH]: (req: IncomingMessage, res: ServerResponse) => {
        const key = new URL(req.url ?? '/', 'http://x').searchParams.get('key');
        res.setHeader('content-type', 'application/json');
        if (refuse && key === REAL_KEY) res.writeHead(403).end(readFixtureText('constructed-key-rejected.json'));
        else res.end(page1);
      },
    });
    const clock = { now: LATER };
    const { crawl } = await setUp('2gis-key', server, clock);
    expect(await crawl()).toMatchObject({ status: 'ok', new: 9 });
    refuse = true;
    expect(await crawl()).toMatchObject({ status: 'ok', pages: 1, new: 0 });
    expect(server.requests.map((r) => [r.path, r.query['key'] ?? null])).toEqual([
      [FIRM_PATH, null],
      [API_PATH, REAL_KEY],
      [API_PATH, REAL_KEY],
      [API_PATH, REAL_KEY],
      [FIRM_PATH, null],
      [API_PATH, NEW_KEY],
    ]);
  });

  it('fails blocked on a captcha firm page, with the target marked blocked', async () => {
    // Constructed: no 2GIS captcha page is recorded anywhere.
    const captcha = '<html><head><title>Доступ ограничен</title></head><body>Подтвердите, что вы не робот</body></html>';
    const server = await serve({ ...baseRoutes(), [FIRM_PATH]: { headers: html, body: captcha } });
    const { crawl } = await setUp('2gis-captcha', server, { now: LATER });
    expect(await crawl()).toMatchObject({ status: 'failed', errorKind: 'BlockedError', pages: 0 });
    expect((await findTarget(store.db, '2gis-captcha'))?.state).toBe('blocked');
  });

  it('reschedules on a 429 it may not wait for, and marks a branch whose reviews API answers 404 needs_action', async () => {
    const limited = await serve({
      ...baseRoutes(),
      [API_PATH]: { status: 429, headers: { 'retry-after': '30' }, body: 'Too Many Requests' },
    });
    const { crawl } = await setUp('2gis-429', limited, { now: LATER });
    expect(await crawl()).toMatchObject({ status: 'failed', errorKind: 'RateLimitedError', retryAfterMs: 30_000 });
    expect((await findTarget(store.db, '2gis-429'))?.state).toBe('degraded');

    const unknown = await serve({ ...baseRoutes(), [API_PATH]: { status: 404, headers: json, body: '{}' } });
    const { crawl: crawlUnknown } = await setUp('2gis-404', unknown, { now: LATER });
    expect(await crawlUnknown()).toMatchObject({ status: 'failed', errorKind: 'SourceChangedError' });
    expect((await findTarget(store.db, '2gis-404'))?.state).toBe('needs_action');
  });
});

describe('a 2gis crawl interrupted at any page', () => {
  it('ends, once re-run, with the mentions of a clean crawl and nothing twice', async () => {
    // Page 2 split in two, so the crawl has three pages to be killed at.
    const page1 = readPage('constructed-reviews-page-1.json');
    const page2 = readPage('constructed-reviews-page-2.json');
    const middleOffset = page2.reviews[1]!.date_created;
    const middle: PageJson = {
      meta: { ...page2.meta, next_link: `https://public-api.reviews.2gis.com${API_PATH}?${new URLSearchParams({ offset_date: middleOffset })}` },
      reviews: page2.reviews.slice(0, 2),
    };
    const last: PageJson = { meta: page2.meta, reviews: page2.reviews.slice(2) };
    const reply = (body: PageJson, onPage: () => void) => (_req: IncomingMessage, res: ServerResponse) => {
      onPage();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const report = await expectResumableCrawl({
      source: '2gis',
      params: (server) => paramsFor(server),
      now: () => LATER,
      serve: (onPage) =>
        startFixtureServer({
          [FIRM_PATH]: { headers: html, body: firmPage },
          [API_PATH]: reply(page1, onPage),
          [page2Route]: reply(middle, onPage),
          [`${API_PATH}?${new URLSearchParams({ offset_date: middleOffset })}`]: reply(last, onPage),
        }),
    });
    expect(report).toMatchObject({ pages: 3, mentions: 9 });
  });
});
