import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectResumableCrawl } from '../../tests/helpers/crawl-conformance.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { expectGolden } from '../../tests/helpers/golden.ts';
import { createTestStore } from '../../tests/helpers/test-store.ts';
import { silentLogger } from '../../log/logger.ts';
import { runCrawl } from '../../scheduler/run-crawl.ts';
import type { CrawlDeps, CrawlTarget } from '../../scheduler/run-crawl.ts';
import { upsertBrand } from '../../store/brands.ts';
import type { Store } from '../../store/connect.ts';
import { upsertTarget } from '../../store/targets.ts';
import { BlockedError, RateLimitedError, SourceChangedError, SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import { createHttpClient } from '../http.ts';
import type { HttpClient, PoliteHttpClient } from '../http.ts';
import { crawlers, findCrawler } from '../registry.ts';
import type { MentionDraft, RawPage } from '../types.ts';
import { buildReviewsBody, buildReviewsUrl, fetchReviewsPage, readStreamCursor } from './fetch.ts';
import { googlePlay } from './index.ts';
import { parseReviews } from './parse.ts';
import { encodeStreamCursor, targetSchema } from './schema.ts';
import { catchAsync, catchError } from '../../tests/helpers/catch-error.ts';
import { createFakeClock } from '../../tests/helpers/fake-clock.ts';
import { testCrawlDeps } from '../../tests/helpers/crawl-deps.ts';

const ctx = { fetchedAt: new Date('2026-11-22T10:00:00Z') };
const NOW = new Date('2026-11-22T10:00:00Z');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TRANSLATE = 'com.google.android.apps.translate';
const TWITTER = 'com.twitter.android';
const BATCH_PATH = '/_/PlayStoreUi/data/batchexecute';
const RU_KK_EN = ['ru', 'kk', 'en'];
/** The next-page token at the end of the 2026 recording. */
const TRANSLATE_TOKEN_START = 'CtgBIs8BAU60USdyhV93';

type Review = unknown[];

function fixturePath(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** A recording's frames and its decoded UsvDTd payload, to mutate. */
function readRecording(name: string): { frames: unknown[][]; payload: [Review[], unknown?] } {
  const text = readFixture(name);
  const frames = JSON.parse(text.slice(text.indexOf('['))) as unknown[][];
  return { frames, payload: JSON.parse(frames[0]?.[2] as string) as [Review[], unknown?] };
}

/** The recording's envelope carrying another payload (null: the frame holds no payload at all). */
function answer(payload: unknown, recording = 'translate-newest-page1.txt'): string {
  const { frames } = readRecording(recording);
  const copy = structuredClone(frames);
  (copy[0] as unknown[])[2] = payload === null ? null : JSON.stringify(payload);
  return `)]}'\n\n${JSON.stringify(copy)}`;
}

function cursorOf(i: number, t: string | null = null, l = RU_KK_EN): string {
  return encodeStreamCursor({ l, i, t });
}

/** A page as fetchPage returns it: effective cursor, form body naming the app. */
function fetchedPage(body: string, opts: { cursor?: string; appId?: string; lang?: string } = {}): RawPage {
  const target = targetSchema.parse({ appId: opts.appId ?? TRANSLATE });
  const cursor = opts.cursor ?? cursorOf(0);
  const stream = readStreamCursor(target, cursor);
  return {
    url: buildReviewsUrl(target, opts.lang ?? (stream.l[stream.i] as string)),
    status: 200,
    contentType: 'application/json; charset=utf-8',
    body,
    cursor,
    requestBody: buildReviewsBody(target.appId, stream.t),
  };
}

/** A file as `earshot parse` reads it without a .meta.json: no cursor, no request body. */
function barePage(name: string): RawPage {
  return { url: pathToFileURL(fixturePath(name)).href, status: 200, contentType: null, body: readFixture(name), cursor: null };
}

/** The UsvDTd call inside a form body, decoded independently of the crawler's own reader. */
function decodeRequest(form: string): { rpc: unknown; request: unknown[]; tail: unknown[] } {
  const envelope = JSON.parse(new URLSearchParams(form).get('f.req') ?? 'null') as unknown[][][];
  const call = envelope[0]?.[0] as unknown[];
  return { rpc: call[0], request: JSON.parse(call[1] as string) as unknown[], tail: call.slice(2) };
}

function requestedToken(form: string): string | null {
  const { request } = decodeRequest(form);
  return ((request[2] as unknown[])[2] as unknown[])[2] as string | null;
}

describe('google-play crawler metadata and target', () => {
  it('is registered with honest metadata', () => {
    expect(findCrawler(crawlers, 'google-play')).toBe(googlePlay);
    expect(googlePlay).toMatchObject({
      id: 'google-play',
      matchKeywords: false,
      stopAtSeen: true,
      recheckHours: 48,
      maxPages: 10,
      defaultSchedule: '0 */4 * * *',
      rateLimit: { perHostPerSecond: 0.5 },
      expectedQuietDays: 14,
    });
  });

  it('defaults to ru, kk, en in Kazakhstan and validates package names and languages', () => {
    expect(targetSchema.parse({ appId: 'kz.kaspi.mobile' })).toEqual({
      appId: 'kz.kaspi.mobile',
      languages: ['ru', 'kk', 'en'],
      country: 'kz',
      baseUrl: 'https://play.google.com',
    });
    expect(targetSchema.parse({ appId: 'com.Example_1.app2', languages: ['pt-BR'], country: 'RU' })).toMatchObject({
      languages: ['pt-BR'],
      country: 'ru',
    });
    for (const appId of ['kaspi', 'kz..kaspi', '1kz.kaspi', 'kz.kaspi-mobile', 'kz.kaspi.', 'https://play.google.com/store/apps/details?id=kz.kaspi.mobile']) {
      expect(targetSchema.safeParse({ appId }).success, appId).toBe(false);
    }
    expect(targetSchema.safeParse({ appId: 'kz.kaspi.mobile', languages: [] }).success).toBe(false);
    expect(targetSchema.safeParse({ appId: 'kz.kaspi.mobile', languages: ['ru', 'ru'] }).success).toBe(false);
    expect(targetSchema.safeParse({ appId: 'kz.kaspi.mobile', languages: ['russian'] }).success).toBe(false);
    expect(targetSchema.safeParse({ appId: 'kz.kaspi.mobile', country: 'kaz' }).success).toBe(false);
  });

  it('builds the batchexecute URL and the newest-first UsvDTd form body', () => {
    const target = targetSchema.parse({ appId: TRANSLATE, baseUrl: 'http://127.0.0.1:8080/' });
    const url = new URL(buildReviewsUrl(target, 'kk'));
    expect(url.origin + url.pathname).toBe(`http://127.0.0.1:8080${BATCH_PATH}`);
    expect(url.searchParams.get('hl')).toBe('kk');
    expect(url.searchParams.get('gl')).toBe('kz');
    expect(url.searchParams.get('rpcids')).toBe('qnKhOb');

    const first = decodeRequest(buildReviewsBody(TRANSLATE, null));
    expect(first).toEqual({
      rpc: 'UsvDTd',
      request: [null, null, [2, 2, [150, null, null], null, []], [TRANSLATE, 7]],
      tail: [null, 'generic'],
    });
    expect(requestedToken(buildReviewsBody(TRANSLATE, 'tok/en+=='))).toBe('tok/en+==');
  });

  it('reads cursors: null is the first language, anything foreign is refused', () => {
    const target = targetSchema.parse({ appId: TRANSLATE });
    expect(readStreamCursor(target, null)).toEqual({ l: RU_KK_EN, i: 0, t: null });
    expect(readStreamCursor(target, cursorOf(2, 'abc'))).toEqual({ l: RU_KK_EN, i: 2, t: 'abc' });
    expect(() => readStreamCursor(target, '2')).toThrow(RangeError);
    expect(() => readStreamCursor(target, '{"l":["ru"],"i":1,"t":null}')).toThrow(RangeError);
    expect(() => readStreamCursor(target, 'not json')).toThrow(RangeError);
  });
});

describe('parseReviews on the 2026 recording (new UUID ids, newest first, hl=en)', () => {
  it('matches the golden file for the first 20 reviews, fetched as the first page of ru', () => {
    const parsed = parseReviews(fetchedPage(readFixture('translate-newest-page1-20.txt')), ctx);
    expectGolden(parsed, new URL('./fixtures/translate-newest-page1-20.golden.json', import.meta.url));
    expect(parsed.mentions).toHaveLength(20);
    const next = JSON.parse(parsed.nextCursor ?? 'null') as { l: string[]; i: number; t: string };
    expect(next).toMatchObject({ l: RU_KK_EN, i: 0 });
    expect(next.t.startsWith(TRANSLATE_TOKEN_START)).toBe(true);
    expect(parsed.nextStreamCursor).toBe(cursorOf(1));
  });

  it('maps ids, authors, rating, text, dates, thumbs up, version and the developer reply', () => {
    const { mentions } = parseReviews(fetchedPage(readFixture('translate-newest-page1.txt')), ctx);
    expect(mentions[0]).toEqual({
      source: 'google-play',
      externalId: '017452fc-0d4b-471d-b406-bcf0f52387a7',
      url: `https://play.google.com/store/apps/details?id=${TRANSLATE}&reviewId=017452fc-0d4b-471d-b406-bcf0f52387a7`,
      author: { name: 'Formann Ali', id: '110479454368781213656' },
      title: null,
      text: 'niec',
      rating: 5,
      publishedAt: '2026-07-06T13:55:24.077Z',
      lang: null,
      metrics: { likes: 0 },
      reply: null,
      parentExternalId: null,
    });
    expect(mentions[1]?.details).toEqual({ version: '10.24.48.939568180.6-release' });
    expect(mentions[4]).toMatchObject({
      externalId: '5219798f-004e-4171-8477-de05baae134d',
      author: { name: 'Baran Akbar' },
      rating: 1,
      text: 'what is wrong with this update? I can no longer manually select lines in the scanning tool',
      publishedAt: '2026-07-06T07:02:46.957Z',
      reply: {
        text: "Hi Baran. We'd like our users to have the best possible experience with the Google Translate app. We'll share your feedback with our product team. Thanks.",
        at: '2026-07-07T01:20:13.174Z',
      },
    });
    // The one old review that still carries a title, and an anonymised reviewer without an id.
    expect(mentions[72]).toMatchObject({ title: 'Laughable.', author: { name: 'A Google user', id: '107975176289865304693' }, metrics: { likes: 37 } });
    expect(mentions.find((m) => m.author.name === 'A Google user' && m.author.id === null)?.externalId).toBe('e64338e7-246d-4bb1-8c3e-09b9a7c3a6f5');
    // hl=en does not filter by language: the page holds Arabic reviews, so no language is claimed.
    expect(mentions[2]).toMatchObject({ text: 'جميل بس ما فيه أوف لاين ترجمة', lang: null });
  });

  it('gives 150 unique, dated, rated reviews, newest first, stable across parses', () => {
    const page = fetchedPage(readFixture('translate-newest-page1.txt'));
    const parsed = parseReviews(page, ctx);
    expect(parseReviews(page, { fetchedAt: new Date('2030-01-01T00:00:00Z') })).toEqual(parsed);
    const { mentions } = parsed;
    expect(mentions).toHaveLength(150);
    expect(new Set(mentions.map((m) => m.externalId)).size).toBe(150);
    for (const m of mentions) {
      expect(m.externalId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(m.publishedAt).toMatch(ISO);
      expect(m.text.length).toBeGreaterThan(0);
      expect(m.reply === null || (m.reply.text.length > 0 && ISO.test(m.reply.at ?? ''))).toBe(true);
    }
    const times = mentions.map((m) => Date.parse(m.publishedAt ?? ''));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(mentions.filter((m) => m.reply !== null)).toHaveLength(42);
    expect(mentions.filter((m) => (m.metrics.likes ?? 0) > 0)).toHaveLength(26);
    expect(mentions.filter((m) => m.details?.version)).toHaveLength(117);
    const histogram = Object.fromEntries([1, 2, 3, 4, 5].map((r) => [r, mentions.filter((m) => m.rating === r).length]));
    expect(Object.values(histogram).reduce((a, b) => a + b, 0)).toBe(150);
  });

  it('follows the recorded URL and request body when read back from a recording (no cursor)', () => {
    const recorded = { ...fetchedPage(readFixture('translate-newest-page1-20.txt'), { cursor: cursorOf(0, null, ['en']) }), cursor: null };
    const parsed = parseReviews(recorded, ctx);
    expect(parsed.mentions[0]?.url).toContain(`id=${TRANSLATE}&reviewId=`);
    expect(JSON.parse(parsed.nextCursor ?? 'null')).toMatchObject({ l: ['en'], i: 0 });
    expect(parsed.nextStreamCursor).toBeNull();
  });

  it('offers no next stream on the last language', () => {
    const parsed = parseReviews(fetchedPage(readFixture('translate-newest-page1-20.txt'), { cursor: cursorOf(2) }), ctx);
    expect(JSON.parse(parsed.nextCursor ?? 'null')).toMatchObject({ l: RU_KK_EN, i: 2 });
    expect(parsed.nextStreamCursor).toBeNull();
  });
});

describe('parseReviews on the 2021 recording (old gp: ids, a bare file)', () => {
  it('matches the golden file and gives mentions without the app id or the stream', () => {
    const parsed = parseReviews(barePage('twitter-relevant-2021.txt'), ctx);
    expectGolden(parsed, new URL('./fixtures/twitter-relevant-2021.golden.json', import.meta.url));
    expect(parsed.mentions).toHaveLength(40);
    // Without the request there is no app id for a URL and no language to continue.
    expect(parsed.mentions.every((m) => m.url === null && m.externalId.startsWith('gp:AOqpTO'))).toBe(true);
    expect(parsed.nextCursor).toBeNull();
    expect(parsed.nextStreamCursor).toBeNull();
    const first = parsed.mentions[0] as MentionDraft;
    expect({ ...first, text: first.text.slice(0, 40) }).toEqual({
      source: 'google-play',
      externalId: 'gp:AOqpTOEG141w8NXyoj4CFpinzfXvBYYywrWQdoRk3NMYLgGE-8TmYXHQhFgs-pXL25gDnLulPidwqJvbcxNK3A',
      url: null,
      author: { name: 'hayzel rose ilagan', id: '114313695647212242832' },
      title: null,
      text: 'I see that a lot here rate the app for a',
      rating: 5,
      publishedAt: '2021-01-20T01:34:05.316Z',
      lang: null,
      metrics: { likes: 1114 },
      reply: null,
      parentExternalId: null,
      details: { version: '8.76.0-release.01' },
    });
    expect(first.text.endsWith('twitter is one of the best social media platform.')).toBe(true);
    expect(first.text).toContain('"react"');
  });

  it('keeps the twitter app id in URLs when the request names it', () => {
    const parsed = parseReviews(fetchedPage(readFixture('twitter-relevant-2021.txt'), { appId: TWITTER }), ctx);
    expect(parsed.mentions[1]?.url).toBe(
      `https://play.google.com/store/apps/details?id=${TWITTER}&reviewId=gp%3AAOqpTOEAwZX1e7CUex4D06PVP2O7i9ENYHktm-BqxQUyEtyOuPyXioDPQm7tuB7N7wEVIhwUHxxfu65kXETAXw`,
    );
    expect(parsed.nextCursor).not.toBeNull();
  });
});

describe('parseReviews on the review-history recording', () => {
  it('refuses it: one review id twice is an edit history, not a reviews page', () => {
    const err = catchError(() => parseReviews(barePage('twitter-review-history-2021.txt'), ctx));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).path).toBe('[0][1][0]');
    expect((err as Error).message).toContain('edit history');
  });
});

describe('parseReviews on empty and last pages', () => {
  it('a language without reviews (null payload) gives nothing, no next page, and the next stream', () => {
    expect(parseReviews(fetchedPage(answer(null)), ctx)).toEqual({ mentions: [], nextCursor: null, nextStreamCursor: cursorOf(1) });
  });

  it('an empty payload or an empty review list with a token gives nothing and no next page', () => {
    const { payload } = readRecording('translate-newest-page1.txt');
    for (const empty of [[], [null], [[]], [[], payload[1]]]) {
      expect(parseReviews(fetchedPage(answer(empty)), ctx), JSON.stringify(empty).slice(0, 40)).toEqual({
        mentions: [],
        nextCursor: null,
        nextStreamCursor: cursorOf(1),
      });
    }
  });

  it('the last page (no paging block) gives its reviews and no next page', () => {
    const { payload } = readRecording('translate-newest-page1.txt');
    for (const last of [[payload[0].slice(0, 3)], [payload[0].slice(0, 3), null], [payload[0].slice(0, 3), [null, null]]]) {
      const parsed = parseReviews(fetchedPage(answer(last)), ctx);
      expect(parsed.mentions.map((m) => m.externalId)).toHaveLength(3);
      expect(parsed.nextCursor).toBeNull();
    }
  });

  it('a token that points back at the page just read ends the stream', () => {
    const { payload } = readRecording('translate-newest-page1.txt');
    const token = (payload[1] as string[])[1] as string;
    const parsed = parseReviews(fetchedPage(answer(payload), { cursor: cursorOf(0, token) }), ctx);
    expect(parsed.mentions).toHaveLength(150);
    expect(parsed.nextCursor).toBeNull();
  });

  it('leaves out what a review does not have: no text, thumbs, version, reply or reviewer', () => {
    const { payload } = readRecording('translate-newest-page1.txt');
    const review = payload[0][4] as Review;
    review[4] = null;
    review[6] = null;
    review[7] = null;
    review[9] = null;
    review.length = 10;
    const [first] = parseReviews(fetchedPage(answer([[review]])), ctx).mentions;
    expect(first).toMatchObject({ text: '', metrics: {}, reply: null, author: { name: 'Baran Akbar', id: null } });
    expect(first).not.toHaveProperty('details');
  });

  it('reads the chunked (rt=c) framing of the same answer', () => {
    const text = readFixture('translate-newest-page1-20.txt');
    const json = text.slice(text.indexOf('['));
    const chunked = `)]}'\n\n${json.length}\n${json}\n25\n[["di",228],["af.httprm",228,"-2365148840472433355",17]]\n`;
    expect(parseReviews(fetchedPage(chunked), ctx)).toEqual(parseReviews(fetchedPage(text), ctx));
  });
});

describe('parseReviews on a changed or failed answer', () => {
  function changedPath(body: string): string | undefined {
    const err = catchError(() => parseReviews(fetchedPage(body), ctx));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as Error).message).toContain((err as SourceChangedError).path);
    return (err as SourceChangedError).path;
  }

  it('names the full path of a moved or retyped position', () => {
    const mutate = (change: (reviews: Review[], payload: unknown[]) => void): string => {
      const { payload } = readRecording('translate-newest-page1.txt');
      change(payload[0], payload);
      return answer(payload);
    };
    expect(changedPath(mutate((r) => ((r[3]![5] as unknown[])[0] = '1783326000')))).toBe('[0][3][5][0]');
    expect(changedPath(mutate((r) => (r[3]![5] = 1783326000)))).toBe('[0][3][5]');
    expect(changedPath(mutate((r) => (r[2]![2] = 7)))).toBe('[0][2][2]');
    expect(changedPath(mutate((r) => (r[2]![2] = '5')))).toBe('[0][2][2]');
    expect(changedPath(mutate((r) => (r[0]![0] = 17452)))).toBe('[0][0][0]');
    expect(changedPath(mutate((r) => (r[9]![1] = null)))).toBe('[0][9][1]');
    expect(changedPath(mutate((r) => ((r[4]![7] as unknown[])[1] = 42)))).toBe('[0][4][7][1]');
    expect(changedPath(mutate((r) => (r[5]![4] = { text: 'moved' })))).toBe('[0][5][4]');
    expect(changedPath(mutate((r) => (r[6]![10] = 10.24)))).toBe('[0][6][10]');
    expect(changedPath(mutate((r) => (r[1] = { id: 'x' } as unknown as Review)))).toBe('[0][1]');
    expect(changedPath(mutate((_r, p) => (p[0] = { reviews: [] })))).toBe('[0]');
    expect(changedPath(mutate((_r, p) => (p[1] = [null, 12345])))).toBe('[1][1]');
    expect(changedPath(answer({ reviews: [] }))).toBe('(root)');
  });

  it('names the envelope when the payload or the frame is not what UsvDTd returns', () => {
    const { frames } = readRecording('translate-newest-page1.txt');
    const notJson = structuredClone(frames);
    (notJson[0] as unknown[])[2] = '[[["017452fc"';
    expect(changedPath(`)]}'\n\n${JSON.stringify(notJson)}`)).toBe('envelope[0][2]');
    const otherRpc = structuredClone(frames);
    (otherRpc[0] as unknown[])[1] = 'oCPfdb';
    expect(changedPath(`)]}'\n\n${JSON.stringify(otherRpc)}`)).toBe('envelope');
    expect(changedPath('<html><body>Service temporarily changed</body></html>')).toBe('(body)');
  });

  it('turns a captcha served with 200 into BlockedError, and PlayGatewayError into RateLimitedError', () => {
    const sorry = '<html><head><title>Sorry...</title></head><body>Our systems have detected unusual traffic from your computer network.</body></html>';
    expect(() => parseReviews(fetchedPage(sorry), ctx)).toThrow(BlockedError);
    // Constructed: the rpc frame with no payload and an error status whose detail names PlayGatewayError.
    const gateway = `)]}'\n\n[["wrb.fr","UsvDTd",null,null,null,[8,null,[["type.googleapis.com/com.google.play.gateway.proto.PlayGatewayError",[]]]],"generic"],["di",12]]`;
    const err = catchError(() => parseReviews(fetchedPage(gateway), ctx));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(10 * 60_000);
  });

  it('turns an "er" frame or a failed rpc status into SourceUnavailableError naming it', () => {
    // Constructed: batchexecute's error frame as Google's other batchexecute services send it, and a UsvDTd frame
    // whose status slot [5] is set; no Play recording holds either.
    const er = catchError(() => parseReviews(fetchedPage(`)]}'\n\n[["er",null,null,null,null,400,null,null,null,3],["di",10]]`), ctx));
    expect(er).toBeInstanceOf(SourceUnavailableError);
    expect((er as SourceUnavailableError).status).toBe(400);
    expect((er as Error).message).toContain('"er"');
    const failed = catchError(() => parseReviews(fetchedPage(`)]}'\n\n[["wrb.fr","UsvDTd",null,null,null,[3],"generic"],["di",10]]`), ctx));
    expect(failed).toBeInstanceOf(SourceUnavailableError);
    expect((failed as Error).message).toContain('status [3]');
  });
});

/**
 * The local Play: ru is the 2026 recording (or its first `ruCount` reviews) split into pages of `ruPageSize` with our own tokens, kk has no reviews
 * (a null payload), en is the 2021 recording sorted newest first on one page.
 */
function servePlay(opts: { ruPageSize: number; ruCount?: number; onPage?: () => void; before?: (res: ServerResponse) => boolean }) {
  const ru = readRecording('translate-newest-page1.txt').payload[0].slice(0, opts.ruCount);
  const en = [...readRecording('twitter-relevant-2021.txt').payload[0]].sort(
    (a, b) => ((b[5] as number[])[0] as number) - ((a[5] as number[])[0] as number),
  );
  const ruPages = Math.ceil(ru.length / opts.ruPageSize);
  return startFixtureServer({
    [BATCH_PATH]: (req, res, body) => {
      if (opts.before?.(res)) return;
      opts.onPage?.();
      const hl = new URL(req.url ?? '/', 'http://local').searchParams.get('hl');
      const token = requestedToken(body);
      res.setHeader('content-type', 'application/json; charset=utf-8');
      if (hl === 'ru') {
        const page = token === null ? 1 : Number(token.replace('ru-page-', ''));
        const slice = ru.slice((page - 1) * opts.ruPageSize, page * opts.ruPageSize);
        res.end(answer(page < ruPages ? [slice, [null, `ru-page-${page + 1}`]] : [slice]));
      } else if (hl === 'kk') {
        res.end(answer(null));
      } else {
        res.end(answer([en], 'twitter-relevant-2021.txt'));
      }
    },
  });
}

describe('a crawl through runCrawl against the local Play', () => {
  // One database for the file's crawls, a target each: a store costs about a second to make.
  let store: Store;
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  afterEach(async () => {
    await server?.close();
    await http?.close();
    server = http = undefined;
  });

  async function setUp(id: string, params: Record<string, unknown>) {
    const brand = await upsertBrand(store.db, { name: 'Acme', keywords: ['acme'] }, NOW);
    const target: CrawlTarget = { id, source: 'google-play', params, brands: [brand] };
    await upsertTarget(store.db, { id, source: target.source, brandIds: [brand.id], params, schedule: '0 */4 * * *', enabled: true }, NOW);
    return target;
  }

  function deps(client: HttpClient): CrawlDeps {
    return testCrawlDeps(store.db, { httpFor: () => client, now: () => NOW });
  }

  async function targetHealth(id: string) {
    return store.db.selectFrom('targets').select(['state', 'last_error', 'consecutive_errors']).where('id', '=', id).executeTakeFirstOrThrow();
  }

  it('pages ru, skips the empty kk, reads en, then a second crawl reads one page per language and adds nothing', async () => {
    server = await servePlay({ ruPageSize: 50 });
    const target = await setUp('play-paging', { appId: TRANSLATE, baseUrl: server.url });
    http = createHttpClient({ perHostPerSecond: 0 });

    const first = await runCrawl(deps(http), target);
    expect(first).toMatchObject({ status: 'ok', pages: 5, fetched: 190, new: 190, updated: 0, duplicates: 0, unmatched: 0 });
    const asked = server.requests.map((r) => [r.method, r.query['hl'], r.query['gl'], requestedToken(r.body)]);
    expect(asked).toEqual([
      ['POST', 'ru', 'kz', null],
      ['POST', 'ru', 'kz', 'ru-page-2'],
      ['POST', 'ru', 'kz', 'ru-page-3'],
      ['POST', 'kk', 'kz', null],
      ['POST', 'en', 'kz', null],
    ]);
    expect(server.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(decodeRequest(server.requests[0]!.body).request[3]).toEqual([TRANSLATE, 7]);

    const answered = await store.db
      .selectFrom('mentions')
      .select(['url', 'rating', 'published_at', 'reply', 'actionable'])
      .where('external_id', '=', '5219798f-004e-4171-8477-de05baae134d')
      .executeTakeFirstOrThrow();
    expect(answered.url).toBe(`https://play.google.com/store/apps/details?id=${TRANSLATE}&reviewId=5219798f-004e-4171-8477-de05baae134d`);
    expect(answered.rating).toBe(1);
    expect(new Date(answered.published_at as unknown as string).toISOString()).toBe('2026-07-06T07:02:46.957Z');
    expect(JSON.stringify(answered.reply)).toContain('Hi Baran');
    // The developer already answered: no ticket for it.
    expect(answered.actionable).toBe(false);

    const before = server.requests.length;
    const second = await runCrawl(deps(http), target);
    expect(second).toMatchObject({ status: 'ok', pages: 3, new: 0, updated: 0, tickets: 0 });
    expect(server.requests.slice(before).map((r) => [r.query['hl'], requestedToken(r.body)])).toEqual([
      ['ru', null],
      ['kk', null],
      ['en', null],
    ]);
  });

  it('waits out a 429 with Retry-After, spacing requests at 0.5 per second', async () => {
    let throttled = false;
    server = await servePlay({
      ruPageSize: 100,
      before: (res) => {
        if (throttled) return false;
        throttled = true;
        res.writeHead(429, { 'retry-after': '7', 'content-type': 'text/html' }).end('<html><body>Too Many Requests</body></html>');
        return true;
      },
    });
    const target = await setUp('play-429', { appId: TRANSLATE, languages: ['ru'], baseUrl: server.url });
    const clock = createFakeClock();
    const { sleeps } = clock;
    http = createHttpClient({
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
    });

    const summary = await runCrawl(deps(http.withRate(googlePlay.rateLimit.perHostPerSecond)), target);
    // Ids another test of this file stored count as known here, so the fetch count is what is asserted.
    expect(summary).toMatchObject({ status: 'ok', pages: 2, fetched: 150 });
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([7_000, 2_000]);
    expect(await targetHealth('play-429')).toMatchObject({ state: 'ok', consecutive_errors: 0 });
  });

  it('reports a 429 it cannot wait out as RateLimitedError with the retry delay', async () => {
    server = await startFixtureServer({ [BATCH_PATH]: { status: 429, headers: { 'retry-after': '120' }, body: 'Too Many Requests' } });
    const target = await setUp('play-429-long', { appId: TRANSLATE, baseUrl: server.url });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const summary = await runCrawl(deps(http), target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'RateLimitedError', retryAfterMs: 120_000, pages: 0 });
    expect(await targetHealth('play-429-long')).toMatchObject({ state: 'degraded', consecutive_errors: 0 });
  });

  it('stops at the "unusual traffic" captcha served with 503: BlockedError, target blocked, no retry', async () => {
    // Constructed from the markers http.ts knows: Google's /sorry/ interstitial wording and path.
    const sorry =
      '<html><head><title>https://play.google.com/</title></head><body><form action="/sorry/index" method="post"><div>Our systems have detected unusual traffic from your computer network. This page checks to see if it&#39;s really you sending the requests, and not a robot.</div></form></body></html>';
    server = await startFixtureServer({ [BATCH_PATH]: { status: 503, headers: { 'content-type': 'text/html' }, body: sorry } });
    const target = await setUp('play-blocked', { appId: TRANSLATE, baseUrl: server.url });
    http = createHttpClient({ perHostPerSecond: 0, sleep: async () => undefined });
    const summary = await runCrawl(deps(http), target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'BlockedError', new: 0 });
    expect(server.requests).toHaveLength(1);
    const health = await targetHealth('play-blocked');
    expect(health).toMatchObject({ state: 'blocked', consecutive_errors: 1 });
    expect(health.last_error).toMatch(/^BlockedError: .*unusual traffic/);
  });

  it('asks the store page when the first language has no reviews: a 404 there is an app Play does not have', async () => {
    // Play's answer for a package it does not know is not recorded anywhere: the null payload of a language
    // without reviews stands for it, and the store page decides. Its bodies are constructed placeholders, never read.
    server = await startFixtureServer({
      [BATCH_PATH]: { headers: { 'content-type': 'application/json; charset=utf-8' }, body: answer(null) },
      '/store/apps/details?id=kz.acme.nosuch': { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>Not Found</body></html>' },
      [`/store/apps/details?id=${TRANSLATE}`]: { headers: { 'content-type': 'text/html' }, body: '<html><body>store page</body></html>' },
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const deps = fetchDeps(http);

    const unknown = await catchAsync(fetchReviewsPage(targetSchema.parse({ appId: 'kz.acme.nosuch', baseUrl: server.url }), null, deps));
    expect(unknown).toBeInstanceOf(TargetUnusableError);
    expect((unknown as Error).message).toBe(
      `Google Play has no store page for kz.acme.nosuch in country "kz" (HTTP 404 at ${server.url}/store/apps/details?id=kz.acme.nosuch&hl=ru&gl=kz) ` +
        'and no reviews of it: check targets[].params.appId (the id= of the app\'s Play Store URL) and targets[].params.country; ' +
        'Play answers 404 for a package it does not know and for an app it does not offer in that country',
    );

    // An app Play has, without reviews in this language: the empty page, and the store page is asked once per process.
    const known = targetSchema.parse({ appId: TRANSLATE, baseUrl: server.url });
    expect(parseReviews(await fetchReviewsPage(known, null, deps), ctx)).toMatchObject({ mentions: [], nextCursor: null });
    await fetchReviewsPage(known, null, deps);
    // The later languages of a crawl never ask it.
    await fetchReviewsPage(known, cursorOf(1), fetchDeps(http));
    expect(server.requests.filter((r) => r.path === '/store/apps/details').map((r) => r.query)).toEqual([
      { id: 'kz.acme.nosuch', hl: 'ru', gl: 'kz' },
      { id: TRANSLATE, hl: 'ru', gl: 'kz' },
    ]);
  });

  it('marks a target whose app Play does not have needs_action, never a quiet empty success', async () => {
    server = await startFixtureServer({
      [BATCH_PATH]: { headers: { 'content-type': 'application/json; charset=utf-8' }, body: answer(null) },
      '/store/apps/details': { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>Not Found</body></html>' },
    });
    const target = await setUp('play-unknown-app', { appId: 'kz.acme.nosuch', baseUrl: server.url });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const summary = await runCrawl(deps(http), target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'TargetUnusableError', pages: 0 });
    const health = await targetHealth('play-unknown-app');
    expect(health.state).toBe('needs_action');
    expect(health.last_error).toMatch(/^TargetUnusableError: Google Play has no store page for kz\.acme\.nosuch in country "kz"/);
  });

  it('fetchPage sends the effective cursor and the form body with the page', async () => {
    server = await servePlay({ ruPageSize: 100 });
    http = createHttpClient({ perHostPerSecond: 0 });
    const target = targetSchema.parse({ appId: TRANSLATE, baseUrl: server.url });
    const raw = await fetchReviewsPage(target, null, fetchDeps(http));
    expect(raw.cursor).toBe(cursorOf(0));
    expect(raw.requestBody).toBe(buildReviewsBody(TRANSLATE, null));
    expect(new URL(raw.url).searchParams.get('hl')).toBe('ru');
    const parsed = parseReviews(raw, ctx);
    expect(parsed.mentions).toHaveLength(100);
    expect(parsed.nextCursor).toBe(cursorOf(0, 'ru-page-2'));
    const next = await fetchReviewsPage(target, parsed.nextCursor, fetchDeps(http));
    expect(parseReviews(next, ctx)).toMatchObject({ nextCursor: null, nextStreamCursor: cursorOf(1) });
    expect(parseReviews(next, ctx).mentions).toHaveLength(50);
  });
});

describe('a crawl interrupted at any page', () => {
  it('ends, once re-run, with the mentions of a clean crawl and nothing twice', async () => {
    const report = await expectResumableCrawl({
      source: 'google-play',
      // Two streams (ru paged twice, en) keep the kill-at-every-page loop short; the empty kk is covered above.
      params: (server) => ({ appId: TRANSLATE, languages: ['ru', 'en'], baseUrl: server.url }),
      serve: (onPage) => servePlay({ ruPageSize: 20, ruCount: 40, onPage }),
      now: () => NOW,
    });
    expect(report).toMatchObject({ pages: 3, mentions: 80 });
  });
});
