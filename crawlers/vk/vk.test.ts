import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isSecretSchema } from '../../lib/secret.ts';
import { silentLogger } from '../../log/logger.ts';
import { runCrawl, type CrawlDeps, type CrawlTarget } from '../../scheduler/run-crawl.ts';
import { upsertBrand } from '../../store/brands.ts';
import type { Store } from '../../store/connect.ts';
import { findTarget, upsertTarget } from '../../store/targets.ts';
import { expectResumableCrawl } from '../../tests/helpers/crawl-conformance.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureHandler, FixtureReply, FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { expectGolden } from '../../tests/helpers/golden.ts';
import { createTestStore } from '../../tests/helpers/test-store.ts';
import {
  BlockedError,
  MissingCredentialsError,
  RateLimitedError,
  SourceChangedError,
  SourceUnavailableError,
  TargetUnusableError,
} from '../errors.ts';
import { createHttpClient } from '../http.ts';
import type { PoliteHttpClient } from '../http.ts';
import type { MentionDraft, RawPage } from '../types.ts';
import { toCrawlerError } from './api-error.ts';
import { readCursor } from './cursor.ts';
import { buildMethodUrl, buildRequest, fetchVkPage, startCursor } from './fetch.ts';
import { vk } from './index.ts';
import { cleanText, parseVkPage } from './parse.ts';
import { credentialsSchema, targetSchema } from './schema.ts';
import type { VkCursor } from './schema.ts';
import { catchAsync, catchError } from '../../tests/helpers/catch-error.ts';
import { createFakeClock } from '../../tests/helpers/fake-clock.ts';
import { testCrawlDeps } from '../../tests/helpers/crawl-deps.ts';
import { basicTicketPolicy } from '../../pipeline/ticket-policy.ts';

const NOW = new Date('2026-11-22T10:00:00Z');
const ctx = { fetchedAt: NOW };
const TOKEN = 'vk1.a.TEST-secret-token-0123456789';
const SEARCH = 'vknet_NewsFeed_Search_NextFrom_NotNull.json';
const WALL = 'vknet_Wall_Get_ExtendedVersion_GenerateOutParametersCorrectly.json';
const OLD_COMMENTS = 'vknet_Wall_GetComments_ReturnLikesAndAttachments.json';
const ONE_COMMENT = 'vknet_Wall_GetComment_ReturnCorrectResults.json';
const CONSTRUCTED = 'constructed-wall-getComments.json';
const API = 'https://api.vk.com/method';
const BRAND = -200000001;

type Json = Record<string, any>;

function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

function fixture(name: string): Json {
  return JSON.parse(fixtureText(name)) as Json;
}

function golden(name: string): URL {
  return new URL(`./fixtures/${name.replace(/\.json$/, '')}.golden.json`, import.meta.url);
}

function rawPage(body: string | Json, cursor: VkCursor | null, url = `${API}/newsfeed.search`): RawPage {
  return {
    url,
    status: 200,
    contentType: 'application/json; charset=utf-8',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    cursor: cursor === null ? null : JSON.stringify(cursor),
  };
}

function bareFile(name: string): RawPage {
  const path = new URL(`./fixtures/${name}`, import.meta.url);
  return { url: path.href, status: 200, contentType: null, body: fixtureText(name), cursor: null };
}

const searchCursor = (extra: Partial<Extract<VkCursor, { stream: 'search' }>> = {}): VkCursor => ({
  stream: 'search',
  since: 1564700000,
  communities: ['200000001'],
  ...extra,
});

const commentsCursor = (extra: Partial<Extract<VkCursor, { stream: 'comments' }>> = {}): VkCursor => ({
  stream: 'comments',
  owner: BRAND,
  place: 'Acme Bank',
  posts: [5001],
  offset: 0,
  communities: [],
  ...extra,
});

function vkError(code: number, message: string, extra: Json = {}): string {
  return JSON.stringify({ error: { error_code: code, error_msg: message, ...extra } });
}

describe('vk crawler metadata, target and requests', () => {
  it('is wired as the registry and runCrawl expect', () => {
    expect(vk).toMatchObject({
      id: 'vk',
      matchKeywords: true,
      stopAtSeen: true,
      recheckHours: 0,
      maxPages: 40,
      defaultSchedule: '0 * * * *',
      rateLimit: { perHostPerSecond: 3 },
      expectedQuietDays: 7,
      credentials: { required: true, hint: 'set credentials.vk.accessToken in the config (a VK user access token, e.g. ${VK_TOKEN})' },
    });
    expect(isSecretSchema(credentialsSchema.shape.accessToken)).toBe(true);
    expect(credentialsSchema.safeParse({ accessToken: '' }).success).toBe(false);
  });

  it('defaults the target and reads communities as ids or short addresses', () => {
    expect(targetSchema.parse({ query: ' acme ' })).toEqual({
      query: 'acme',
      communities: [],
      commentPosts: 10,
      initialDays: 7,
      apiVersion: '5.199',
      baseUrl: 'https://api.vk.com',
    });
    const { communities } = targetSchema.parse({
      query: 'acme',
      communities: [123, '-456', 'club789', 'public12', 'https://vk.com/club34', 'https://vk.com/AcmeBank/', 'acme.bank'],
    });
    expect(communities).toEqual(['123', '456', '789', '12', '34', 'acmebank', 'acme.bank']);
    expect(targetSchema.safeParse({ query: 'acme', communities: ['not a name!'] }).success).toBe(false);
    expect(targetSchema.safeParse({ query: '' }).success).toBe(false);
    expect(targetSchema.safeParse({ query: 'acme', apiVersion: '6' }).success).toBe(false);
  });

  it('searches from the stored history, or initialDays back on a first crawl', () => {
    const target = targetSchema.parse({ query: 'acme', communities: ['acmebank'], initialDays: 3 });
    expect(startCursor(target, { now: () => NOW, since: null })).toEqual({
      stream: 'search',
      since: NOW.getTime() / 1000 - 3 * 86_400,
      communities: ['acmebank'],
    });
    expect(startCursor(target, { now: () => NOW, since: new Date('2026-11-22T08:55:00Z') }).since).toBe(1795337700);
  });

  it('builds the three calls with the token nowhere in the URL', () => {
    const target = targetSchema.parse({ query: 'Acme Bank', communities: ['200000001', 'acmebank'], baseUrl: 'http://127.0.0.1:9/' });
    const search = buildMethodUrl(target, buildRequest(target, { stream: 'search', since: 100, from: '3/-1_2', communities: [] }));
    expect(Object.fromEntries(new URL(search).searchParams)).toEqual({
      q: 'Acme Bank', extended: '1', count: '200', start_time: '100', start_from: '3/-1_2',
      fields: 'screen_name,followers_count,members_count', v: '5.199',
    });
    expect(new URL(search).pathname).toBe('/method/newsfeed.search');
    const byId = new URL(buildMethodUrl(target, buildRequest(target, { stream: 'wall', communities: ['200000001'] })));
    expect([byId.pathname, byId.searchParams.get('owner_id'), byId.searchParams.get('domain'), byId.searchParams.get('count')]).toEqual(['/method/wall.get', '-200000001', null, '10']);
    const byName = new URL(buildMethodUrl(target, buildRequest(target, { stream: 'wall', communities: ['acmebank'] })));
    expect([byName.searchParams.get('owner_id'), byName.searchParams.get('domain')]).toEqual([null, 'acmebank']);
    const comments = new URL(buildMethodUrl(target, buildRequest(target, readCursor(JSON.stringify(commentsCursor({ posts: [7, 8], offset: 100 }))))));
    expect(Object.fromEntries(comments.searchParams)).toMatchObject({
      owner_id: String(BRAND), post_id: '7', offset: '100', count: '100', sort: 'desc', preview_length: '0', need_likes: '1', extended: '1', thread_items_count: '10',
    });
    for (const url of [search, byId.href, byName.href, comments.href]) expect(url).not.toMatch(/access_token|TEST-secret/);
    expect(() => readCursor('{"stream":"elsewhere"}')).toThrow(RangeError);
    expect(() => readCursor('7')).toThrow(RangeError);
  });
});

describe('parse newsfeed.search (real recording)', () => {
  it('matches its golden file and maps ids, authors, dates, metrics and details', () => {
    const page = parseVkPage(rawPage(fixtureText(SEARCH), searchCursor()), ctx);
    expectGolden(page, golden(SEARCH));
    expect(page.mentions.map((m) => m.externalId)).toEqual(['388444282_11454', '-31130529_49163', '-184898883_177']);
    const [user, group, withLink] = page.mentions as [MentionDraft, MentionDraft, MentionDraft];
    expect(user).toMatchObject({
      source: 'vk',
      url: 'https://vk.com/wall388444282_11454',
      author: { name: 'Элина Стайл', handle: 'elinastayl', id: '388444282', url: 'https://vk.com/elinastayl' },
      // &#10071; is VK's escape of the emoji.
      text: '❗Принимаю заказы до 23.00 завтрашнего дня&',
      publishedAt: '2019-08-02T21:05:00.000Z',
      metrics: { likes: 0, comments: 0, reposts: 0 },
      title: null,
      rating: null,
      reply: null,
      parentExternalId: null,
      details: {},
    });
    expect(group.author).toEqual({ name: 'Аниме картинки и не только', handle: 'waldub', id: '-31130529', url: 'https://vk.com/waldub' });
    expect(group.metrics).toEqual({ likes: 0, comments: 0, reposts: 0, views: 2 });
    expect(group.details).toEqual({ place: 'Аниме картинки и не только' });
    expect(withLink.publishedAt).toBe('2019-08-02T19:55:40.000Z');
    expect(withLink.details?.links).toEqual(['https://www.fl.ru-cherez-servis.html']);
    expect(readCursor(page.nextCursor!)).toEqual({ ...searchCursor(), from: '3/-184898883_177' });
    expect(readCursor(page.nextStreamCursor!)).toEqual({ stream: 'wall', communities: ['200000001'] });
  });

  it('reads a bare file by its shape, with no community to go on to', () => {
    const page = parseVkPage(bareFile(SEARCH), ctx);
    expect(page.mentions).toEqual(parseVkPage(rawPage(fixtureText(SEARCH), searchCursor()), ctx).mentions);
    expect(readCursor(page.nextCursor!)).toEqual({ stream: 'search', communities: [], from: '3/-184898883_177' });
    expect(page.nextStreamCursor).toBeNull();
  });

  it('leaves out what the brand posted on its own community, by id or by short address', () => {
    for (const own of ['184898883', 'leads_seo']) {
      const { mentions } = parseVkPage(rawPage(fixtureText(SEARCH), searchCursor({ communities: [own] })), ctx);
      expect(mentions.map((m) => m.externalId)).toEqual(['388444282_11454', '-31130529_49163']);
    }
  });

  it('takes a repost its original text and source, a signer, audience sizes and links in the text', () => {
    const search = fixture(SEARCH);
    const wall = fixture(WALL);
    const [first, second] = search.response.items;
    first.text = '';
    first.copy_history = [{ ...wall.response.items[0].copy_history[0], text: 'Acme [club29246653|снизила] тарифы' }];
    search.response.groups.push(wall.response.groups[0]);
    second.signer_id = 388444282;
    second.text = 'Подробнее: https://example.org/acme?x=1, и [id1|Павел].';
    search.response.profiles[0].followers_count = 42;
    search.response.groups[0].members_count = 9000;
    const [repost, signed] = parseVkPage(rawPage(search, searchCursor()), ctx).mentions as [MentionDraft, MentionDraft];
    expect(repost.text).toBe('Acme снизила тарифы');
    expect(repost.details?.forwardedFrom).toEqual({ name: 'Корпорация Зла', url: 'https://vk.com/wall-29246653_93530' });
    expect(repost.author.followers).toBe(42);
    expect(signed.details).toEqual({ place: 'Аниме картинки и не только', signature: 'Элина Стайл', links: ['https://example.org/acme?x=1'] });
    expect(signed.text).toBe('Подробнее: https://example.org/acme?x=1, и Павел.');
    expect(signed.author.followers).toBe(9000);
  });

  it('keeps a paid post and flags it as sponsored', () => {
    const search = fixture(SEARCH);
    search.response.items[0].marked_as_ads = 1;
    const [ad, plain] = parseVkPage(rawPage(search, searchCursor()), ctx).mentions as [MentionDraft, MentionDraft];
    expect(ad.details?.sponsored).toBe(true);
    expect(plain.details?.sponsored).toBeUndefined();
  });

  it('opens a window below the oldest post when VK stops paging before the start of the search', () => {
    const search = fixture(SEARCH);
    delete search.response.next_from;
    const next = parseVkPage(rawPage(search, searchCursor()), ctx).nextCursor;
    expect(readCursor(next!)).toEqual({ stream: 'search', since: 1564700000, until: 1564775740, communities: ['200000001'] });
    // Never the same window twice, never below the start, never when VK served everything it found.
    expect(parseVkPage(rawPage(search, searchCursor({ until: 1564775740 })), ctx).nextCursor).toBeNull();
    expect(parseVkPage(rawPage(search, searchCursor({ since: 1564775740 })), ctx).nextCursor).toBeNull();
    search.response.total_count = 1000;
    expect(parseVkPage(rawPage(search, searchCursor()), ctx).nextCursor).toBeNull();
  });

  it('keeps paging by next_from inside a window', () => {
    const next = parseVkPage(rawPage(fixtureText(SEARCH), searchCursor({ until: 1564780000 })), ctx).nextCursor;
    expect(readCursor(next!)).toMatchObject({ until: 1564780000, from: '3/-184898883_177' });
  });
});

describe('parse wall.get (real recording)', () => {
  it('gives a bare file as posts, the repost with its source (golden)', () => {
    const page = parseVkPage(bareFile(WALL), ctx);
    expectGolden(page, golden(WALL));
    expect(page.mentions).toHaveLength(1);
    expect(page.mentions[0]).toMatchObject({
      externalId: '10_41',
      url: 'https://vk.com/wall10_41',
      author: { name: 'Иван Иванов', handle: null, id: '10', url: 'https://vk.com/id10' },
      text: '',
      publishedAt: '2014-03-05T06:51:06.000Z',
      metrics: { likes: 1, comments: 0, reposts: 0 },
      details: { forwardedFrom: { name: 'Корпорация Зла', url: 'https://vk.com/wall-29246653_93530' } },
    });
  });

  it('on a community wall: the owner\'s posts are not mentions; posts with comments lead to them', () => {
    const wall = fixture(WALL);
    const own = { ...wall.response.items[0], id: 5001, owner_id: BRAND, from_id: BRAND, comments: { count: 7 } };
    const others = { ...own, id: 5003, from_id: 10, text: 'Acme, верните деньги', comments: { count: 0 } };
    const older = { ...own, id: 4990, comments: { count: 2 } };
    wall.response.items = [own, others, older];
    wall.response.groups.push({ id: 200000001, name: 'Acme Bank', screen_name: 'acmebank' });
    const page = parseVkPage(rawPage(wall, { stream: 'wall', communities: ['200000001', 'acme.shop'] }, `${API}/wall.get`), ctx);
    expect(page.mentions.map((m) => [m.externalId, m.author.name, m.details?.place])).toEqual([['-200000001_5003', 'Иван Иванов', 'Acme Bank']]);
    const comments = { stream: 'comments', owner: BRAND, place: 'Acme Bank', posts: [5001, 4990], offset: 0, communities: ['acme.shop'] };
    expect(readCursor(page.nextCursor!)).toEqual(comments);
    // Known posts by others must not skip the comments: the next stream is the comments too.
    expect(readCursor(page.nextStreamCursor!)).toEqual(comments);
  });

  it('goes on to the next community when no post has comments', () => {
    const page = parseVkPage(rawPage(fixtureText(WALL), { stream: 'wall', communities: ['ivanov', 'acmebank'] }, `${API}/wall.get`), ctx);
    expect(page.mentions).toEqual([]);
    expect(page.nextCursor).toBeNull();
    expect(readCursor(page.nextStreamCursor!)).toEqual({ stream: 'wall', communities: ['acmebank'] });
  });
});

describe('parse wall.getComments', () => {
  it('constructed modern page: threads, the brand\'s answers as replies, deleted comments (golden)', () => {
    const page = parseVkPage(rawPage(fixtureText(CONSTRUCTED), commentsCursor({ posts: [5001, 4990], communities: ['acmebank'] }), `${API}/wall.getComments`), ctx);
    expectGolden(page, golden(CONSTRUCTED));
    expect(page.mentions.map((m) => [m.externalId, m.parentExternalId, m.url])).toEqual([
      ['-200000001_5001_5010', '-200000001_5001', 'https://vk.com/wall-200000001_5001?reply=5010'],
      ['-200000001_5001_5012', '-200000001_5001_5010', 'https://vk.com/wall-200000001_5001?reply=5012&thread=5010'],
      ['-200000001_5001_5007', '-200000001_5001_5006', 'https://vk.com/wall-200000001_5001?reply=5007&thread=5006'],
      ['-200000001_5001_5005', '-200000001_5001', 'https://vk.com/wall-200000001_5001?reply=5005'],
    ]);
    const [complaint, , , review] = page.mentions as MentionDraft[];
    expect(complaint).toMatchObject({
      author: { name: 'Анна Петрова', handle: 'anna.petrova', id: '300000001', url: 'https://vk.com/anna.petrova', followers: 120 },
      text: 'Acme, карта не пришла уже две недели. Где она?',
      publishedAt: '2026-11-22T09:40:00.000Z',
      metrics: { likes: 3, comments: 2 },
      reply: { text: 'Анна, напишите нам в сообщения сообщества, проверим доставку.', at: '2026-11-22T09:50:00.000Z' },
      details: { place: 'Acme Bank' },
    });
    expect(review?.author).toEqual({ name: 'Финансовый обзор', handle: 'finreview', id: '-200000009', url: 'https://vk.com/finreview', followers: 5400 });
    expect(review?.details).toEqual({ place: 'Acme Bank', links: ['https://example.org/acme-tariffs'] });
    expect(page.nextCursor).toBeNull();
    expect(readCursor(page.nextStreamCursor!)).toEqual(commentsCursor({ posts: [4990], communities: ['acmebank'] }));
  });

  it('pages by offset, then the next post, then the next community', () => {
    const body = fixture(CONSTRUCTED);
    body.response.current_level_count = 150;
    const more = parseVkPage(rawPage(body, commentsCursor({ offset: 100, communities: ['acmebank'] }), `${API}/wall.getComments`), ctx);
    expect(readCursor(more.nextCursor!)).toEqual(commentsCursor({ offset: 104, communities: ['acmebank'] }));
    expect(readCursor(more.nextStreamCursor!)).toEqual({ stream: 'wall', communities: ['acmebank'] });
    const last = parseVkPage(rawPage(fixtureText(CONSTRUCTED), commentsCursor(), `${API}/wall.getComments`), ctx);
    expect([last.nextCursor, last.nextStreamCursor]).toEqual([null, null]);
  });

  it('real 2013 page: <br> as a line break, likes, authors by id only (golden)', () => {
    const page = parseVkPage(rawPage(fixtureText(OLD_COMMENTS), commentsCursor({ posts: [4990], place: null }), `${API}/wall.getComments`), ctx);
    expectGolden(page, golden(OLD_COMMENTS));
    expect(page.mentions).toHaveLength(2);
    expect(page.mentions[0]).toMatchObject({
      externalId: '-200000001_4990_3809',
      url: 'https://vk.com/wall-200000001_4990?reply=3809',
      parentExternalId: '-200000001_4990',
      author: { name: null, handle: null, id: '6733856', url: 'https://vk.com/id6733856' },
      text: 'Поздравляю вас!!!\nРастите здоровыми, счастливыми и красивыми!',
      publishedAt: '2013-11-22T05:45:44.000Z',
      metrics: { likes: 1 },
      details: {},
    });
    expect(page.mentions[1]?.publishedAt).toBe('2013-11-22T06:21:06.000Z');
    expect(page.nextCursor).toBeNull();
  });

  it('a recording with its URL (record mode) knows the post; a bare file says it does not', () => {
    const recorded = { ...bareFile(OLD_COMMENTS), url: `${API}/wall.getComments?owner_id=-200000001&post_id=4990&offset=0&v=5.199` };
    expect(parseVkPage(recorded, ctx).mentions.map((m) => m.externalId)).toEqual(['-200000001_4990_3809', '-200000001_4990_3810']);
    const bare = parseVkPage(bareFile(OLD_COMMENTS), ctx);
    expect(bare.mentions.map((m) => [m.externalId, m.url, m.parentExternalId])).toEqual([
      ['?_?_3809', null, null],
      ['?_?_3810', null, null],
    ]);
    expect(bare.nextCursor).toBeNull();
  });

  it('real wall.getComment answer: mention markup as the name, author from profiles (golden)', () => {
    const page = parseVkPage(bareFile(ONE_COMMENT), ctx);
    expectGolden(page, golden(ONE_COMMENT));
    expect(page.mentions).toHaveLength(1);
    expect(page.mentions[0]).toMatchObject({
      author: { name: 'Dmitry Sergeev', handle: null, id: '233754083', url: 'https://vk.com/id233754083' },
      publishedAt: '2018-08-22T08:43:07.000Z',
      metrics: { likes: 0 },
    });
    expect(page.mentions[0]?.text.startsWith('Дмитрий, я не хочу даже сейчас спорить')).toBe(true);
    expect(page.mentions[0]?.text.endsWith('статьи об экстремизме')).toBe(true);
  });

  it('cleans VK text', () => {
    expect(cleanText(' a<br>b<br/>[club1|Acme] &quot;x&quot; &amp; &#128512; &#x2757; &nope; & ')).toBe('a\nb\nAcme "x" & 😀 ❗ &nope; &');
  });
});

describe('empty and broken pages', () => {
  it('an empty search, wall or comments page gives no mentions and no next page', () => {
    const search = fixture(SEARCH);
    search.response.items = [];
    delete search.response.next_from;
    expect(parseVkPage(rawPage(search, searchCursor()), ctx)).toEqual({
      mentions: [],
      nextCursor: null,
      nextStreamCursor: JSON.stringify({ stream: 'wall', communities: ['200000001'] }),
    });
    // VK may still hand out a next_from with nothing on the page: it is not followed.
    search.response.next_from = '4/x';
    expect(parseVkPage(rawPage(search, searchCursor({ communities: [] })), ctx)).toEqual({ mentions: [], nextCursor: null, nextStreamCursor: null });
    const wall = fixture(WALL);
    wall.response.items = [];
    expect(parseVkPage(rawPage(wall, { stream: 'wall', communities: ['1'] }, `${API}/wall.get`), ctx)).toEqual({ mentions: [], nextCursor: null, nextStreamCursor: null });
    const comments = fixture(CONSTRUCTED);
    comments.response.items = [];
    comments.response.count = 0;
    expect(parseVkPage(rawPage(comments, commentsCursor(), `${API}/wall.getComments`), ctx)).toEqual({ mentions: [], nextCursor: null, nextStreamCursor: null });
  });

  it('throws SourceChangedError naming the path when a post, a comment or the envelope changed', () => {
    const search = fixture(SEARCH);
    search.response.items[1].date = '2019-08-02';
    const err = catchError(() => parseVkPage(rawPage(search, searchCursor()), ctx));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).path).toBe('response.items[1].date');
    expect((err as Error).message).toContain('response.items[1].date');

    const comments = fixture(CONSTRUCTED);
    delete comments.response.items[0].thread.items[1].text;
    const thread = catchError(() => parseVkPage(rawPage(comments, commentsCursor(), `${API}/wall.getComments`), ctx));
    expect((thread as SourceChangedError).path).toBe('response.items[0].thread.items[1].text');

    const wall = fixture(WALL);
    wall.response.items[0].owner_id = '10';
    expect((catchError(() => parseVkPage(rawPage(wall, { stream: 'wall', communities: ['x'] }, `${API}/wall.get`), ctx)) as SourceChangedError).path).toBe('response.items[0].owner_id');

    const noItems = fixture(SEARCH);
    noItems.response.items = { '0': noItems.response.items[0] };
    expect((catchError(() => parseVkPage(rawPage(noItems, searchCursor()), ctx)) as SourceChangedError).path).toBe('response.items');
    expect((catchError(() => parseVkPage(rawPage({ result: [] }, searchCursor()), ctx)) as SourceChangedError).path).toBe('response');
    expect(() => parseVkPage(rawPage('<html><body>502 Bad Gateway</body></html>', searchCursor()), ctx)).toThrow(SourceChangedError);
  });

  it('an error answer in a recording throws the error it means', () => {
    expect(() => parseVkPage(rawPage(vkError(14, 'Captcha needed'), null), ctx)).toThrow(BlockedError);
    expect(() => parseVkPage(rawPage(vkError(5, 'User authorization failed'), null), ctx)).toThrow(MissingCredentialsError);
  });
});

describe('VK error codes', () => {
  it('map to the retry policy, and never show the token', () => {
    const cases: [number, new (...args: never[]) => Error, number?][] = [
      [5, MissingCredentialsError],
      [27, MissingCredentialsError],
      [28, MissingCredentialsError],
      [6, RateLimitedError, 1_000],
      [9, RateLimitedError, 3_600_000],
      [29, RateLimitedError, 3_600_000],
      [14, BlockedError],
      [17, BlockedError],
      [15, TargetUnusableError],
      [18, TargetUnusableError],
      [30, TargetUnusableError],
      [212, TargetUnusableError],
      [3, SourceChangedError],
      [23, SourceChangedError],
      [10, SourceUnavailableError],
      [999, SourceUnavailableError],
    ];
    for (const [code, kind, retryAfterMs] of cases) {
      const err = toCrawlerError({ code, message: `something about ${TOKEN}` }, 'wall.get', TOKEN);
      expect(err, `error ${code}`).toBeInstanceOf(kind);
      expect(err.message).toContain(`error ${code}`);
      expect(err.message).not.toContain(TOKEN);
      if (retryAfterMs !== undefined) expect((err as RateLimitedError).retryAfterMs).toBe(retryAfterMs);
    }
    expect(toCrawlerError({ code: 5, message: 'User authorization failed: invalid access_token (4).' }, 'newsfeed.search').message).toMatch(/renew|new user token/);
  });

  it('tells a token that never arrived from a bad one: error 5 has one code for both', () => {
    const missing = toCrawlerError({ code: 5, message: 'User authorization failed: no access_token passed.' }, 'newsfeed.search');
    expect(missing).toBeInstanceOf(MissingCredentialsError);
    expect(missing.message).toMatch(/received no access token/);
    expect(missing.message).not.toMatch(/expired|revoked|new user token/);
    const expired = toCrawlerError({ code: 5, message: 'User authorization failed: access_token has expired.' }, 'newsfeed.search');
    expect(expired.message).toMatch(/has expired; get a new user token/);
  });
});

describe('fetchVkPage', () => {
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  afterEach(async () => {
    await server?.close();
    await http?.close();
    server = undefined;
    http = undefined;
  });

  const credentials = { accessToken: TOKEN };

  it('sends the token as a Bearer header, never in the URL, and returns the effective cursor', async () => {
    server = await startFixtureServer({ '/method/newsfeed.search': { headers: { 'content-type': 'application/json' }, body: fixtureText(SEARCH) } });
    http = createHttpClient({ perHostPerSecond: 0 });
    const target = targetSchema.parse({ query: 'acme', communities: ['200000001'], baseUrl: server.url });
    const raw = await fetchVkPage(target, null, fetchDeps(http, { credentials, since: new Date('2026-11-22T08:55:00Z') }));
    expect(readCursor(raw.cursor!)).toEqual({ stream: 'search', since: 1795337700, communities: ['200000001'] });
    expect(raw.url).not.toContain(TOKEN);
    const [request] = server.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.query).toMatchObject({ q: 'acme', start_time: '1795337700', v: '5.199' });
    expect(JSON.stringify(request?.query)).not.toContain(TOKEN);
    expect(parseVkPage(raw, ctx).mentions).toHaveLength(3);
  });

  it('asks again on "too many requests per second", then gives up with RateLimitedError', async () => {
    const tooMany = { headers: { 'content-type': 'application/json' }, body: vkError(6, 'Too many requests per second') };
    const ok = { headers: { 'content-type': 'application/json' }, body: fixtureText(SEARCH) };
    server = await startFixtureServer({ '/method/newsfeed.search': [tooMany, tooMany, ok] });
    http = createHttpClient({ perHostPerSecond: 0 });
    const target = targetSchema.parse({ query: 'acme', baseUrl: server.url });
    const raw = await fetchVkPage(target, null, fetchDeps(http, { credentials }));
    expect(server.requests).toHaveLength(3);
    expect(parseVkPage(raw, ctx).mentions).toHaveLength(3);

    await server.close();
    server = undefined;
    server = await startFixtureServer({ '/method/newsfeed.search': tooMany });
    const err = await catchAsync(fetchVkPage(targetSchema.parse({ query: 'acme', baseUrl: server.url }), null, fetchDeps(http, { credentials })));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(1_000);
    expect(server.requests).toHaveLength(3);
  });

  it('refuses to run without a token', async () => {
    http = createHttpClient({ perHostPerSecond: 0 });
    const err = await catchAsync(fetchVkPage(targetSchema.parse({ query: 'acme', baseUrl: 'http://127.0.0.1:9' }), null, fetchDeps(http)));
    expect(err).toBeInstanceOf(MissingCredentialsError);
    expect((err as Error).message).toBe(vk.credentials.hint);
  });
});

// ---- end to end: runCrawl on a database, against a local replay ------------------------------------------------

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const KEYWORDS = ['acme', 'заказы', 'аниме', 'парсинг'];

/** The search recording split in two pages, then the brand's wall, then the comments of its two posts. */
function vkBodies() {
  const search = fixture(SEARCH).response;
  const page1 = { ...search, items: search.items.slice(0, 2), next_from: 'page-2' };
  const { next_from: _last, ...rest } = search;
  const page2 = { ...rest, items: search.items.slice(2) };
  const wall = fixture(WALL).response;
  const own = { ...wall.items[0], id: 5001, owner_id: BRAND, from_id: BRAND, date: 1795284000, comments: { count: 7 } };
  const others = { ...own, id: 5003, from_id: 10, text: 'Acme, верните деньги', date: 1795340700, comments: { count: 0 } };
  const older = { ...own, id: 4990, date: 1795200000, comments: { count: 2 } };
  const wallPage = { ...wall, items: [own, others, older], groups: [...wall.groups, { id: 200000001, name: 'Acme Bank', screen_name: 'acmebank' }] };
  return {
    search1: JSON.stringify({ response: page1 }),
    search2: JSON.stringify({ response: page2 }),
    wall: JSON.stringify({ response: wallPage }),
    comments5001: fixtureText(CONSTRUCTED),
    comments4990: fixtureText(OLD_COMMENTS),
  };
}

function vkRoutes(onPage: () => void = () => undefined, overrides: Record<string, FixtureReply | FixtureReply[]> = {}): Record<string, FixtureReply | FixtureReply[]> {
  const bodies = vkBodies();
  const serve = (body: string): FixtureHandler => (_req, res: ServerResponse) => {
    onPage();
    if (res.destroyed) return;
    res.writeHead(200, JSON_TYPE).end(body);
  };
  return {
    '/method/newsfeed.search': serve(bodies.search1),
    '/method/newsfeed.search?start_from=page-2': serve(bodies.search2),
    '/method/wall.get?owner_id=-200000001': serve(bodies.wall),
    '/method/wall.getComments?post_id=5001': serve(bodies.comments5001),
    '/method/wall.getComments?post_id=4990': serve(bodies.comments4990),
    ...overrides,
  };
}

describe('runCrawl end to end', () => {
  // Failure cases share one database (a target each); the crawls that count new mentions get their own.
  let shared: Store | undefined;
  let own: Store | undefined;
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  let targets = 0;
  beforeAll(async () => {
    shared = await createTestStore();
  });
  afterAll(async () => {
    await shared?.close();
  });
  afterEach(async () => {
    await own?.close();
    await server?.close();
    await http?.close();
    own = undefined;
    server = undefined;
    http = undefined;
  });

  interface SetUp {
    params?: Json;
    client?: PoliteHttpClient;
    freshStore?: boolean;
  }

  async function setUp(routes: ReturnType<typeof vkRoutes>, { params = { communities: ['200000001'] }, client = createHttpClient({ perHostPerSecond: 0, retries: 0 }), freshStore = false }: SetUp = {}) {
    const store = freshStore ? (own = await createTestStore()) : shared!;
    server = await startFixtureServer(routes);
    http = client;
    const brand = await upsertBrand(store.db, { name: 'Acme', keywords: KEYWORDS }, NOW);
    targets += 1;
    const target: CrawlTarget = { id: `vk-acme-${targets}`, source: 'vk', params: { query: 'Acme', baseUrl: server.url, ...params }, brands: [brand] };
    await upsertTarget(store.db, { id: target.id, source: 'vk', brandIds: [brand.id], params: target.params as Record<string, unknown>, schedule: '0 * * * *', enabled: true }, NOW);
    const deps = testCrawlDeps(store.db, {
      httpFor: (crawler) => client.withRate(crawler.rateLimit.perHostPerSecond),
      now: () => NOW,
      log: silentLogger,
      policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }),
      credentials: { vk: { accessToken: TOKEN } },
    });
    return { deps, target, db: store.db, server };
  }

  it('pages the search, the brand\'s wall and its comments; a second crawl stops at what it knows', async () => {
    const { deps, target, db, server } = await setUp(vkRoutes(), { freshStore: true });
    const first = await runCrawl(deps, target);
    // 3 search posts, then everything on the brand's own community: 1 post by someone else on its wall, the 4
    // comments of post 5001 and the two 2013 comments of post 4990, which do not name the brand but are kept
    // because they were left under the brand's own post.
    expect(first).toMatchObject({ status: 'ok', pages: 5, fetched: 10, new: 10, unmatched: 0, duplicates: 0 });
    expect(server.requests.map((r) => [r.path, r.query.start_from ?? r.query.owner_id, r.query.post_id])).toEqual([
      ['/method/newsfeed.search', undefined, undefined],
      ['/method/newsfeed.search', 'page-2', undefined],
      ['/method/wall.get', '-200000001', undefined],
      ['/method/wall.getComments', '-200000001', '5001'],
      ['/method/wall.getComments', '-200000001', '4990'],
    ]);
    expect(server.requests[0]?.query.start_time).toBe(String(NOW.getTime() / 1000 - 7 * 86_400));
    for (const r of server.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(JSON.stringify(r.query)).not.toContain(TOKEN);
    }

    const rows = await db.selectFrom('mentions').select(['external_id', 'parent_external_id', 'reply', 'actionable', 'details']).orderBy('external_id').execute();
    expect(rows.map((r) => r.external_id)).toEqual([
      '-184898883_177', '-200000001_4990_3809', '-200000001_4990_3810',
      '-200000001_5001_5005', '-200000001_5001_5007', '-200000001_5001_5010', '-200000001_5001_5012',
      '-200000001_5003', '-31130529_49163', '388444282_11454',
    ]);
    const answered = rows.find((r) => r.external_id === '-200000001_5001_5010');
    expect(answered?.reply).toMatchObject({ text: 'Анна, напишите нам в сообщения сообщества, проверим доставку.' });
    // Answered by the brand already: no ticket for it.
    expect(answered?.actionable).toBe(false);
    expect(answered?.details).toEqual({ place: 'Acme Bank' });

    const before = server.requests.length;
    const second = await runCrawl(deps, target);
    expect(second).toMatchObject({ status: 'ok', new: 0, updated: 0 });
    // Each stream stops at its first known page: the search, the wall (it always leads to the comments), one page per post.
    expect(second.pages).toBe(4);
    const again = server.requests.slice(before);
    // The search starts an hour before the newest item stored (reply 5012 at 09:55).
    expect(again[0]?.query.start_time).toBe(String(Date.parse('2026-11-22T08:55:00Z') / 1000));
    expect(again.map((r) => r.query.post_id ?? r.path)).toEqual(['/method/newsfeed.search', '/method/wall.get', '5001', '4990']);
  });

  it('a search without communities: the second crawl fetches one page and adds nothing', async () => {
    const { deps, target, server } = await setUp(vkRoutes(), { params: { communities: [] }, freshStore: true });
    expect(await runCrawl(deps, target)).toMatchObject({ status: 'ok', pages: 2, new: 3 });
    const before = server.requests.length;
    expect(await runCrawl(deps, target)).toMatchObject({ status: 'ok', pages: 1, new: 0 });
    expect(server.requests.length - before).toBe(1);
  });

  it('waits out a 429 with Retry-After and spaces requests at 3 a second', async () => {
    const clock = createFakeClock(NOW.getTime());
    const { sleeps } = clock;
    const client = createHttpClient({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    const routes = vkRoutes();
    routes['/method/newsfeed.search'] = [{ status: 429, headers: { 'retry-after': '2' }, body: 'Too Many Requests' }, routes['/method/newsfeed.search'] as FixtureHandler];
    const { deps, target } = await setUp(routes, { params: { communities: [] }, client });
    expect(await runCrawl(deps, target)).toMatchObject({ status: 'ok', pages: 2 });
    // Retry-After on the first page; the second page waits for its slot a third of a second later.
    expect(sleeps).toEqual([2_000, expect.closeTo(1000 / 3, 3)]);
  });

  it('a captcha (error 14) fails the crawl as BlockedError and blocks the target', async () => {
    const captcha = vkError(14, 'Captcha needed', { captcha_sid: '548108465371', captcha_img: 'https://api.vk.com/captcha.php?sid=548108465371&s=1' });
    const { deps, target, db } = await setUp(vkRoutes(undefined, { '/method/wall.get?owner_id=-200000001': { headers: JSON_TYPE, body: captcha } }));
    const summary = await runCrawl(deps, target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'BlockedError', pages: 2 });
    expect(summary.error).toContain('error 14');
    expect((await findTarget(db, target.id))?.state).toBe('blocked');
  });

  it('"too many requests per second" that persists reschedules the crawl (RateLimitedError, retryAfterMs)', async () => {
    const { deps, target, db, server } = await setUp(vkRoutes(undefined, { '/method/newsfeed.search': { headers: JSON_TYPE, body: vkError(6, 'Too many requests per second') } }));
    const summary = await runCrawl(deps, target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'RateLimitedError', retryAfterMs: 1_000, pages: 0 });
    expect(server.requests).toHaveLength(3);
    expect((await findTarget(db, target.id))?.state).toBe('degraded');
  });

  it('a rejected token disables the target without ever showing the token', async () => {
    // VK echoes the request's parameters in its error, a query access_token included; we send none, and read none.
    const rejected = vkError(5, 'User authorization failed: invalid access_token (4).', { request_params: [{ key: 'access_token', value: TOKEN }] });
    const { deps, target, db } = await setUp(vkRoutes(undefined, { '/method/newsfeed.search': { headers: JSON_TYPE, body: rejected } }));
    const summary = await runCrawl(deps, target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'MissingCredentialsError' });
    expect(summary.error).not.toContain(TOKEN);
    const health = await findTarget(db, target.id);
    expect(health?.state).toBe('disabled');
    expect(health?.last_error).not.toContain(TOKEN);
    const runs = await db.selectFrom('crawl_runs').select('error').where('target_id', '=', target.id).execute();
    expect(runs.every((r) => !String(r.error).includes(TOKEN))).toBe(true);
  });

  it('without credentials: disabled with the hint, nothing fetched', async () => {
    const { deps, target, db, server } = await setUp(vkRoutes());
    const summary = await runCrawl({ ...deps, credentials: {} }, target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'MissingCredentialsError', error: vk.credentials.hint, pages: 0 });
    expect(server.requests).toHaveLength(0);
    expect((await findTarget(db, target.id))?.state).toBe('disabled');
  });

  it('a closed community (error 15) marks the target for someone to fix', async () => {
    const closed = vkError(15, 'Access denied: this wall available only for community members');
    const { deps, target, db } = await setUp(vkRoutes(undefined, { '/method/wall.get?owner_id=-200000001': { headers: JSON_TYPE, body: closed } }));
    expect(await runCrawl(deps, target)).toMatchObject({ status: 'failed', errorKind: 'TargetUnusableError' });
    expect((await findTarget(db, target.id))?.state).toBe('needs_action');
  });
});

describe('a vk crawl interrupted at any page', () => {
  it('ends, once re-run, with the mentions of a clean crawl and nothing twice', async () => {
    const report = await expectResumableCrawl({
      source: 'vk',
      params: (server) => ({ query: 'Acme', communities: ['200000001'], baseUrl: server.url }),
      credentials: { accessToken: TOKEN },
      keywords: KEYWORDS,
      serve: (onPage) => startFixtureServer(vkRoutes(onPage)),
    });
    expect(report).toMatchObject({ pages: 5, mentions: 10 });
  }, 120_000);
});
