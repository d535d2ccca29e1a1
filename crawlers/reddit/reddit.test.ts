import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redactValue } from '../../config/redact.ts';
import { isSecretSchema } from '../../lib/secret.ts';
import { silentLogger } from '../../log/logger.ts';
import { runCrawl } from '../../scheduler/run-crawl.ts';
import type { CrawlDeps, CrawlTarget } from '../../scheduler/run-crawl.ts';
import { upsertBrand } from '../../store/brands.ts';
import type { Store } from '../../store/connect.ts';
import { upsertTarget } from '../../store/targets.ts';
import { expectResumableCrawl } from '../../tests/helpers/crawl-conformance.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { expectGolden } from '../../tests/helpers/golden.ts';
import { createTestStore } from '../../tests/helpers/test-store.ts';
import { BlockedError, MissingCredentialsError, RateLimitedError, SourceChangedError, TargetUnusableError } from '../errors.ts';
import { createHttpClient } from '../http.ts';
import type { PoliteHttpClient } from '../http.ts';
import { createRecorder, readRecordedPage } from '../record.ts';
import type { MentionDraft, RawPage } from '../types.ts';
import { buildFeedUrl, buildListingUrl, fetchRedditPage, readAfterCursor } from './fetch.ts';
import { reddit } from './index.ts';
import { parseRedditPage } from './parse.ts';
import { credentialsSchema, targetSchema } from './schema.ts';
import type { RedditCredentials } from './schema.ts';
import { catchAsync, catchError } from '../../tests/helpers/catch-error.ts';
import { createFakeClock } from '../../tests/helpers/fake-clock.ts';
import { testCrawlDeps } from '../../tests/helpers/crawl-deps.ts';
import { basicTicketPolicy } from '../../pipeline/ticket-policy.ts';

const ctx = { fetchedAt: new Date('2026-11-22T10:00:00Z') };
const NOW = new Date('2026-11-22T10:00:00Z');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SEARCH_URL = 'https://oauth.reddit.com/search?q=praw&sort=new&type=link&limit=100&raw_json=1';
const FEED_URL = 'https://www.reddit.com/search.rss?q=praw&sort=new&limit=100';
const CREDENTIALS: RedditCredentials = {
  clientId: 'test-client-id',
  clientSecret: 'test-client-secret-do-not-log',
  userAgent: 'linux:earshot-tests:0.1 (by /u/earshot)',
};
const FAKE_TOKEN = 'FAKE-earshot-test-token-not-from-reddit';

interface Thing {
  kind: string;
  data: Record<string, unknown>;
}
interface Listing {
  kind: string;
  data: { after?: string | null; children: Thing[] } & Record<string, unknown>;
}

function fixtureUrl(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

function readFixtureText(name: string): string {
  return readFileSync(fixtureUrl(name), 'utf8');
}

function readListing(name: string): Listing {
  return JSON.parse(readFixtureText(name)) as Listing;
}

function rawPage(body: string, url = SEARCH_URL, cursor: string | null = null): RawPage {
  return { url, status: 200, contentType: null, body, cursor };
}

function parseListing(listing: Listing, url = SEARCH_URL) {
  return parseRedditPage(rawPage(JSON.stringify(listing), url), ctx);
}

function parseFeedText(xml: string, url = FEED_URL) {
  return parseRedditPage(rawPage(xml, url), ctx);
}

/** The search recording as a `sort=new` search would give it: newest first. */
function newestFirst(): Thing[] {
  return [...readListing('search-r-all-2016.json').data.children].sort(
    (a, b) => (b.data['created_utc'] as number) - (a.data['created_utc'] as number),
  );
}

/** The search recording split into pages of two, newest first, chained by our own `after` values. */
function searchPages(): Map<string, string> {
  const base = readListing('search-r-all-2016.json');
  const things = newestFirst();
  const pages = new Map<string, string>();
  let after = '';
  for (let i = 0; i < things.length; i += 2) {
    const slice = things.slice(i, i + 2);
    const next = i + 2 < things.length ? (slice.at(-1)?.data['name'] as string) : null;
    pages.set(after, JSON.stringify({ ...base, data: { ...base.data, children: slice, after: next } }));
    after = next ?? '';
  }
  return pages;
}

/** Edits the first `<entry>` of the Atom recording. */
function editFirstEntry(xml: string, edit: (entry: string) => string): string {
  const start = xml.indexOf('<entry>');
  const end = xml.indexOf('</entry>', start) + '</entry>'.length;
  return xml.slice(0, start) + edit(xml.slice(start, end)) + xml.slice(end);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sendJson(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(body);
}

describe('reddit crawler metadata, target and credentials', () => {
  it('is wired as the registry expects', () => {
    expect(reddit).toMatchObject({
      id: 'reddit',
      matchKeywords: true,
      stopAtSeen: true,
      recheckHours: 0,
      maxPages: 10,
      defaultSchedule: '0 * * * *',
      rateLimit: { perHostPerSecond: 1 },
      expectedQuietDays: 14,
      credentials: { required: false },
    });
    expect(reddit.credentials.hint).toMatch(/credentials\.reddit\.clientId and clientSecret/);
  });

  it('marks the client secret secret, so the config redacts it', () => {
    expect(isSecretSchema(credentialsSchema.shape.clientSecret)).toBe(true);
    expect(redactValue(credentialsSchema, CREDENTIALS)).toEqual({ ...CREDENTIALS, clientSecret: '***' });
    expect(credentialsSchema.safeParse({ clientId: 'x' }).success).toBe(false);
  });

  it('defaults to the real hosts and checks what each listing needs', () => {
    expect(targetSchema.parse({ query: 'kaspi' })).toEqual({
      query: 'kaspi',
      listing: 'search',
      baseUrl: 'https://oauth.reddit.com',
      authUrl: 'https://www.reddit.com',
      rssBaseUrl: 'https://www.reddit.com',
    });
    expect(targetSchema.parse({ query: 'kaspi', subreddit: 'r/Kazakhstan' }).subreddit).toBe('Kazakhstan');
    expect(targetSchema.parse({ listing: 'comments', subreddit: '/r/kaspi' })).toMatchObject({ listing: 'comments', subreddit: 'kaspi' });
    const noQuery = targetSchema.safeParse({ subreddit: 'kaspi' });
    expect(noQuery.error?.issues[0]?.path).toEqual(['query']);
    const noSubreddit = targetSchema.safeParse({ listing: 'comments' });
    expect(noSubreddit.error?.issues[0]?.path).toEqual(['subreddit']);
    expect(targetSchema.safeParse({ query: 'kaspi', subreddit: 'kaspi bank' }).success).toBe(false);
  });

  it('builds the OAuth and feed URLs and reads fullname cursors', () => {
    const target = targetSchema.parse({ query: 'kaspi OR каспи', baseUrl: 'http://127.0.0.1:9/', rssBaseUrl: 'http://127.0.0.1:9' });
    expect(buildListingUrl(target, null)).toBe(
      'http://127.0.0.1:9/search?q=kaspi+OR+%D0%BA%D0%B0%D1%81%D0%BF%D0%B8&sort=new&type=link&limit=100&raw_json=1',
    );
    const inSub = targetSchema.parse({ query: 'kaspi', subreddit: 'Kazakhstan' });
    expect(buildListingUrl(inSub, 't3_abc')).toBe(
      'https://oauth.reddit.com/r/Kazakhstan/search?q=kaspi&sort=new&type=link&restrict_sr=1&limit=100&raw_json=1&after=t3_abc',
    );
    expect(buildFeedUrl(inSub, null)).toBe('https://www.reddit.com/r/Kazakhstan/search.rss?q=kaspi&sort=new&restrict_sr=1&limit=100');
    const comments = targetSchema.parse({ listing: 'comments', subreddit: 'kaspi' });
    expect(buildListingUrl(comments, 't1_k3uzsxu')).toBe('https://oauth.reddit.com/r/kaspi/comments?limit=100&raw_json=1&after=t1_k3uzsxu');
    expect(buildFeedUrl(comments, null)).toBe('https://www.reddit.com/r/kaspi/comments.rss?limit=100');
    expect(readAfterCursor(null)).toBeNull();
    expect(readAfterCursor('t3_4at068')).toBe('t3_4at068');
    expect(() => readAfterCursor('page=2')).toThrow(RangeError);
  });
});

describe('parseRedditPage on the OAuth search listing (2016)', () => {
  it('matches the golden file', () => {
    const parsed = parseRedditPage(rawPage(readFixtureText('search-r-all-2016.json')), ctx);
    expectGolden(parsed, fixtureUrl('search-r-all-2016.golden.json'));
  });

  it('maps each post: fullname, canonical permalink, author, date, votes and comments, subreddit', () => {
    const { mentions, nextCursor } = parseRedditPage(rawPage(readFixtureText('search-r-all-2016.json')), ctx);
    expect(nextCursor).toBeNull();
    expect(mentions.map((m) => m.externalId)).toEqual(['t3_3gpbiu', 't3_3x4kt2', 't3_3b4erh', 't3_1qvzkd', 't3_3qc02b', 't3_4at068']);
    const second = mentions[1] as MentionDraft;
    expect({ ...second, text: second.text.slice(0, 50) }).toEqual({
      source: 'reddit',
      externalId: 't3_3x4kt2',
      url: 'https://www.reddit.com/r/redditdev/comments/3x4kt2/praw_is_there_an_easy_way_of_getting_a_list_of/',
      author: { name: 'GrinningMouth38', id: null, url: 'https://www.reddit.com/user/GrinningMouth38' },
      title: '[PRAW] Is there an easy way of getting a list of the subreddits I am subscribed to, without using OAuth?',
      text: 'As the title says.  I have done a bit of looking a',
      rating: null,
      publishedAt: '2015-12-16T21:03:06.000Z',
      lang: null,
      metrics: { votes: 2, comments: 5 },
      reply: null,
      parentExternalId: null,
      details: { place: 'r/redditdev' },
    });
    // created_utc, not the 2016 API's local-time `created` eight hours later.
    expect(mentions[0]?.publishedAt).toBe('2015-08-12T09:08:34.000Z');
    expect(mentions[5]?.title).toBe('たびたび話題になるサイドバーの閲覧中ユーザ数について（また）調べた');
    for (const m of mentions) {
      expect(m.url).not.toContain('?ref=search_posts');
      expect(m.publishedAt).toMatch(ISO);
      expect(m.text.length).toBeGreaterThan(0);
      expect(m.text).not.toContain('&amp;');
    }
    expect(mentions[0]?.text.startsWith('# solved\n\nProblem solved with this:')).toBe(true);
  });

  it('gives the same drafts whenever it is parsed', () => {
    const body = readFixtureText('search-r-all-2016.json');
    expect(parseRedditPage(rawPage(body), { fetchedAt: new Date('2031-01-01T00:00:00Z') })).toEqual(parseRedditPage(rawPage(body), ctx));
  });

  it('takes the title as the text of a link post and keeps where it links to', () => {
    const listing = readListing('search-r-all-2016.json');
    const data = listing.data.children[1]!.data;
    Object.assign(data, { is_self: false, selftext: '', url: 'https://github.com/praw-dev/praw', author_fullname: 't2_abcd' });
    const [, link] = parseListing(listing).mentions;
    expect(link?.text).toBe(link?.title);
    expect(link?.details).toEqual({ place: 'r/redditdev', links: ['https://github.com/praw-dev/praw'] });
    expect(link?.author).toEqual({ name: 'GrinningMouth38', id: 't2_abcd', url: 'https://www.reddit.com/user/GrinningMouth38' });
  });

  it('names nobody for a deleted account and falls back to the title for removed text', () => {
    const listing = readListing('search-r-all-2016.json');
    Object.assign(listing.data.children[0]!.data, { author: '[deleted]', selftext: '[removed]' });
    const [removed] = parseListing(listing).mentions;
    expect(removed?.author).toEqual({ name: null, id: null, url: null });
    expect(removed?.text).toBe('[PRAW][OAuth2Util] Problem using get_banned() : raise Forbidden(_raw=response)');
  });

  it('pages on `after`, and drops scores it cannot read rather than failing', () => {
    const listing = readListing('search-r-all-2016.json');
    listing.data.after = 't3_4at068';
    listing.data.children[2]!.data['score'] = 'hidden';
    const { mentions, nextCursor } = parseListing(listing);
    expect(nextCursor).toBe('t3_4at068');
    expect(mentions[2]?.metrics).toEqual({ comments: 13 });
  });
});

describe('parseRedditPage on a comments listing (2023)', () => {
  it('matches the golden file', () => {
    const parsed = parseRedditPage(rawPage(readFixtureText('comments-listing-2023.json')), ctx);
    expectGolden(parsed, fixtureUrl('comments-listing-2023.golden.json'));
  });

  it('maps comments under their post and pages on `after`', () => {
    const { mentions, nextCursor } = parseRedditPage(rawPage(readFixtureText('comments-listing-2023.json')), ctx);
    expect(mentions).toHaveLength(12);
    expect(nextCursor).toBe('t1_k3uzsxu');
    expect(mentions[1]).toEqual({
      source: 'reddit',
      externalId: 't1_k3ynwqb',
      url: 'https://www.reddit.com/r/<TEST_SUBREDDIT>/comments/172thsp/bot_<TEST_SUBREDDIT>/k3ynwqb/',
      author: { name: 'Innsmouth_Swim_Team', id: 't2_v07goqfq', url: 'https://www.reddit.com/user/Innsmouth_Swim_Team' },
      title: null,
      text: 'Hey u/VettedBot what can you tell me about https://www.amazon.com/AT-Prepaid-Radiant-Max-Smartphone/dp/B098KJWTXL',
      rating: null,
      publishedAt: '2023-10-08T08:00:11.000Z',
      lang: null,
      metrics: { votes: 1 },
      reply: null,
      parentExternalId: 't3_172thsp',
      details: { place: 'r/<TEST_SUBREDDIT>' },
    });
    for (const m of mentions) {
      expect(m.externalId).toMatch(/^t1_[a-z0-9]+$/);
      expect(m.parentExternalId).toMatch(/^t3_[a-z0-9]+$/);
      expect(m.title).toBeNull();
      expect(m.text.length).toBeGreaterThan(0);
    }
  });
});

describe('parseRedditPage on the public Atom feed (2016)', () => {
  it('matches the golden file', async () => {
    const parsed = parseRedditPage(rawPage(readFixtureText('home-2016.atom'), 'https://www.reddit.com/.rss'), ctx);
    expectGolden(parsed, fixtureUrl('home-2016.golden.json'));
  });

  it('reads the same ids, titles, links and dates as rss-parser did', () => {
    const expected = JSON.parse(readFixtureText('home-2016.rss-parser-expected.json')) as {
      feed: { items: { id: string; title: string; link: string; isoDate: string; author: string }[] };
    };
    const { mentions, nextCursor } = parseFeedText(readFixtureText('home-2016.atom'));
    expect(nextCursor).toBeNull();
    expect(mentions.map((m) => [m.externalId, m.title, m.url, m.publishedAt, m.author.name])).toEqual(
      expected.feed.items.map((i) => [i.id, i.title, i.link, i.isoDate, i.author.replace('/u/', '')]),
    );
  });

  it('maps a link post: title as text, the [link] target, the comment count, the subreddit', () => {
    const [first] = parseFeedText(readFixtureText('home-2016.atom')).mentions;
    expect(first).toEqual({
      source: 'reddit',
      externalId: 't3_42tizy',
      url: 'https://www.reddit.com/r/funny/comments/42tizy/how_the_british_as_seen_by_americans_and_europeans/',
      author: { name: 'AngryRedditorsBelow', id: null, url: 'https://www.reddit.com/user/AngryRedditorsBelow' },
      title: 'How the British as seen by Americans and Europeans',
      text: 'How the British as seen by Americans and Europeans',
      rating: null,
      publishedAt: '2016-01-26T20:31:34.000Z',
      lang: null,
      metrics: { comments: 1143 },
      reply: null,
      parentExternalId: null,
      details: { place: 'r/funny', links: ['http://i.imgur.com/pTR7f6D.jpg'] },
    });
  });

  it('keeps a self post\'s own text, in order, without the "submitted by" footer', () => {
    const mentions = parseFeedText(readFixtureText('home-2016.atom')).mentions;
    const tifu = mentions.find((m) => m.externalId === 't3_42rrzq');
    expect(tifu?.text.startsWith('At the Canadian border, driving to Vancouver from Seattle with friends:\nCanadian Border Agent:')).toBe(true);
    expect(tifu?.details).toEqual({ place: 'r/tifu' });
    for (const m of mentions) expect(m.text).not.toMatch(/submitted by|\[link\]|comments\]/);
  });

  it('reads today\'s escaped-html entries: own text, no link to itself, published before updated', () => {
    const permalink = 'https://www.reddit.com/r/funny/comments/42tizy/how_the_british_as_seen_by_americans_and_europeans/';
    const html =
      '<!-- SC_OFF --><div class="md"><p>We moved to Kaspi &amp; never looked back.</p> <p>Second &quot;para&quot;.</p></div><!-- SC_ON -->' +
      ' &#32; submitted by &#32; <a href="https://www.reddit.com/user/AngryRedditorsBelow"> /u/AngryRedditorsBelow </a> <br/>' +
      ` <span><a href="${permalink}">[link]</a></span> &#32; <span><a href="${permalink}">[comments]</a></span>`;
    const xml = editFirstEntry(readFixtureText('home-2016.atom'), (entry) =>
      entry
        .replace(/<content[\s\S]*<\/content>/, `<content type="html">${escapeXml(html)}</content>`)
        .replace(/<published>[^<]*<\/published>/, '<updated>2026-11-20T09:30:00+00:00</updated><published>2026-11-20T09:00:00+00:00</published>'),
    );
    const [first] = parseFeedText(xml).mentions;
    expect(first).toMatchObject({
      externalId: 't3_42tizy',
      text: 'We moved to Kaspi & never looked back.\nSecond "para".',
      publishedAt: '2026-11-20T09:00:00.000Z',
      metrics: {},
      details: { place: 'r/funny' },
    });
    const onlyUpdated = editFirstEntry(readFixtureText('home-2016.atom'), (entry) =>
      entry.replace(/<published>[^<]*<\/published>/, '<updated>2026-11-20T09:30:00+00:00</updated>'),
    );
    expect(parseFeedText(onlyUpdated).mentions[0]?.publishedAt).toBe('2026-11-20T09:30:00.000Z');
  });

  it('reads a comment entry of a comments feed under its post', () => {
    const xml = editFirstEntry(readFixtureText('home-2016.atom'), (entry) =>
      entry
        .replace('<id>t3_42tizy</id>', '<id>t1_cz0abcd</id>')
        .replace(/<title>[^<]*<\/title>/, '<title>/u/someone on How the British as seen by Americans and Europeans</title>')
        .replace(/<link href="([^"]+)" \/>/, '<link href="$1cz0abcd/" />')
        .replace(/<content[\s\S]*<\/content>/, `<content type="html">${escapeXml('<div class="md"><p>Kaspi is great</p></div>')}</content>`),
    );
    expect(parseFeedText(xml).mentions[0]).toMatchObject({
      externalId: 't1_cz0abcd',
      url: 'https://www.reddit.com/r/funny/comments/42tizy/how_the_british_as_seen_by_americans_and_europeans/cz0abcd/',
      title: null,
      text: 'Kaspi is great',
      parentExternalId: 't3_42tizy',
      details: { place: 'r/funny' },
    });
  });

  it('takes the id from the permalink when the entry has none, so both paths agree', () => {
    const xml = editFirstEntry(readFixtureText('home-2016.atom'), (entry) => entry.replace('<id>t3_42tizy</id>', ''));
    expect(parseFeedText(xml).mentions[0]?.externalId).toBe('t3_42tizy');
    const deleted = editFirstEntry(readFixtureText('home-2016.atom'), (entry) =>
      entry.replace(/<author>[\s\S]*?<\/author>/, '<author><name>/u/[deleted]</name></author>'),
    );
    expect(parseFeedText(deleted).mentions[0]?.author).toEqual({ name: null, id: null, url: null });
  });
});

describe('parseRedditPage on the old RSS 2.0 feed (2015)', () => {
  it('matches the golden file', () => {
    const parsed = parseRedditPage(rawPage(readFixtureText('front-page-2015.rss'), 'https://www.reddit.com/.rss'), ctx);
    expectGolden(parsed, fixtureUrl('front-page-2015.golden.json'));
  });

  it('reads ids from permalinks, authors from "submitted by", self text from the description', () => {
    const { mentions, nextCursor } = parseFeedText(readFixtureText('front-page-2015.rss'));
    expect(mentions).toHaveLength(24);
    expect(nextCursor).toBeNull();
    const ama = mentions[1] as MentionDraft;
    expect({ ...ama, text: ama.text.slice(0, 60) }).toEqual({
      source: 'reddit',
      externalId: 't3_3sl82z',
      url: 'https://www.reddit.com/r/IAmA/comments/3sl82z/we_are_aziz_ansari_and_alan_yang_from_master_of/',
      author: { name: 'azizansariAMA', id: null, url: 'https://www.reddit.com/user/azizansariAMA' },
      title: 'We are Aziz Ansari and Alan Yang from Master of None - Ask Us Anything',
      text: "It's Aziz Ansari.\nI'm here to chat about my new Netflix seri",
      rating: null,
      publishedAt: '2015-11-12T22:27:28.000Z',
      lang: null,
      metrics: { comments: 2836 },
      reply: null,
      parentExternalId: null,
      details: { place: 'r/IAmA' },
    });
    for (const m of mentions) {
      expect(m.externalId).toMatch(/^t3_[a-z0-9]+$/);
      expect(m.author.name).toMatch(/^[\w-]+$/);
      expect(m.text).not.toMatch(/submitted by/);
    }
    expect(mentions[0]?.details).toEqual({ place: 'r/funny', links: ['http://i.imgur.com/U407R75.gifv'] });
  });
});

describe('parseRedditPage on empty and changed pages', () => {
  it('gives nothing and no next page for an empty listing or feed', () => {
    const listing = readListing('search-r-all-2016.json');
    listing.data.children = [];
    listing.data.after = 't3_4at068';
    expect(parseListing(listing)).toEqual({ mentions: [], nextCursor: null });
    const feed = readFixtureText('home-2016.atom').replace(/<entry>[\s\S]*<\/entry>/, '');
    expect(parseFeedText(feed)).toEqual({ mentions: [], nextCursor: null });
  });

  it('names the path of a listing field that changed', () => {
    const listing = readListing('search-r-all-2016.json');
    listing.data.children[2]!.data['created_utc'] = '2015-06-25';
    const err = catchError(() => parseListing(listing));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).path).toBe('data.children[2].data.created_utc');
    expect((err as Error).message).toContain('data.children[2].data.created_utc');

    const comments = readListing('comments-listing-2023.json');
    delete comments.data.children[4]!.data['link_id'];
    expect((catchError(() => parseListing(comments)) as SourceChangedError).path).toBe('data.children[4].data.link_id');

    const kind = readListing('search-r-all-2016.json');
    kind.data.children[0]!.kind = 't5';
    expect((catchError(() => parseListing(kind)) as SourceChangedError).path).toBe('data.children[0].kind');

    const other = catchError(() => parseRedditPage(rawPage('{"message": "Forbidden", "error": 403}'), ctx));
    expect(other).toBeInstanceOf(SourceChangedError);
    expect((other as SourceChangedError).path).toBe('kind');
    const noChildren = catchError(() => parseRedditPage(rawPage('{"kind": "Listing", "data": {}}'), ctx));
    expect((noChildren as SourceChangedError).path).toBe('data.children');
  });

  it('names the path of a feed entry that changed', () => {
    const undated = editFirstEntry(readFixtureText('home-2016.atom'), (entry) => entry.replace(/<published>[^<]*<\/published>/, ''));
    const err = catchError(() => parseFeedText(undated));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).path).toBe('feed.entry[0].published');
    const anonymous = editFirstEntry(readFixtureText('home-2016.atom'), (entry) =>
      entry.replace('<id>t3_42tizy</id>', '<id>42tizy</id>').replace(/<link href="[^"]+" \/>/, ''),
    );
    expect((catchError(() => parseFeedText(anonymous)) as SourceChangedError).path).toBe('feed.entry[0].id');
    const rssUndated = readFixtureText('front-page-2015.rss').replace(/<pubDate>[^<]*<\/pubDate>/, '<pubDate>soon</pubDate>');
    expect((catchError(() => parseFeedText(rssUndated)) as SourceChangedError).path).toBe('rss.channel.item[0].pubDate');
    const opml = catchError(() => parseFeedText('<?xml version="1.0"?><opml version="2.0"><body/></opml>'));
    expect(opml).toBeInstanceOf(SourceChangedError);
    expect((opml as Error).message).toContain('<opml>');
  });

  it('tells a block page from a page of another kind', () => {
    const blocked = catchError(() => parseFeedText(readFixtureText('constructed-blocked.html')));
    expect(blocked).toBeInstanceOf(BlockedError);
    expect((blocked as Error).message).toContain('Reddit network-policy block page');
    const security = catchError(() =>
      parseFeedText("<!doctype html><html><body><p>You've been blocked by network security.</p></body></html>"),
    );
    expect(security).toBeInstanceOf(BlockedError);
    expect(() => parseFeedText('<!DOCTYPE html><html><body>reddit: the front page</body></html>')).toThrow(SourceChangedError);
    expect(() => parseRedditPage(rawPage('{"kind": "Listing", '), ctx)).toThrow(SourceChangedError);
    expect(() => parseRedditPage(rawPage('Too Many Requests'), ctx)).toThrow(SourceChangedError);
  });
});

describe('fetchRedditPage against a local server', () => {
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  afterEach(async () => {
    await server?.close();
    await http?.close();
    server = undefined;
  });

  const tokenBody = readFixtureText('constructed-access-token.json');

  it('gets an app-only token once, searches with it, and renews it before it expires', async () => {
    let tokens = 0;
    server = await startFixtureServer({
      '/api/v1/access_token': (_req, res) => {
        tokens += 1;
        sendJson(res, tokenBody.replace(FAKE_TOKEN, `${FAKE_TOKEN}-${tokens}`));
      },
      '/search': { headers: { 'content-type': 'application/json; charset=UTF-8' }, file: fixtureUrl('search-r-all-2016.json').pathname },
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    let now = NOW.getTime();
    const deps = fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS, now: () => new Date(now) });
    const target = targetSchema.parse({ query: 'praw', baseUrl: server.url, authUrl: server.url });

    const first = await fetchRedditPage(target, null, deps);
    expect(first.url).toBe(`${server.url}/search?q=praw&sort=new&type=link&limit=100&raw_json=1`);
    expect(parseRedditPage(first, ctx).mentions).toHaveLength(6);
    await fetchRedditPage(target, 't3_4at068', deps);
    now += 3540_000 - 1;
    await fetchRedditPage(target, null, deps);
    now += 1;
    await fetchRedditPage(target, null, deps);

    const [token, search, second] = server.requests;
    expect(token).toMatchObject({ method: 'POST', path: '/api/v1/access_token', body: 'grant_type=client_credentials' });
    expect(token?.headers['authorization']).toBe(`Basic ${Buffer.from('test-client-id:test-client-secret-do-not-log').toString('base64')}`);
    expect(token?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(token?.headers['user-agent']).toBe(CREDENTIALS.userAgent);
    expect(search).toMatchObject({ method: 'GET', path: '/search', query: { q: 'praw', sort: 'new', type: 'link', limit: '100', raw_json: '1' } });
    expect(search?.headers['authorization']).toBe(`bearer ${FAKE_TOKEN}-1`);
    expect(search?.headers['user-agent']).toBe(CREDENTIALS.userAgent);
    expect(second?.query['after']).toBe('t3_4at068');
    // One minute before the hour is up, the second token is fetched.
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v1/access_token', '/search', '/search', '/search', '/api/v1/access_token', '/search']);
    expect(server.requests.at(-1)?.headers['authorization']).toBe(`bearer ${FAKE_TOKEN}-2`);
  });

  it('records a crawl without the secret or the token', async () => {
    server = await startFixtureServer({
      '/api/v1/access_token': { headers: { 'content-type': 'application/json; charset=UTF-8' }, body: tokenBody },
      '/search': { headers: { 'content-type': 'application/json; charset=UTF-8' }, file: fixtureUrl('search-r-all-2016.json').pathname },
    });
    const dir = mkdtempSync(join(tmpdir(), 'earshot-reddit-record-'));
    try {
      const recorder = createRecorder(dir);
      http = createHttpClient({ perHostPerSecond: 0, retries: 0, onExchange: recorder.onExchange });
      const target = targetSchema.parse({ query: 'praw', baseUrl: server.url, authUrl: server.url });
      await fetchRedditPage(target, null, fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS }));
      expect(recorder.files).toHaveLength(2);
      const recorded = readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8')).join('\n');
      expect(recorded).toContain('"access_token": "***"');
      expect(recorded).toContain('grant_type=client_credentials');
      for (const secret of [FAKE_TOKEN, CREDENTIALS.clientSecret, Buffer.from(`${CREDENTIALS.clientId}:${CREDENTIALS.clientSecret}`).toString('base64')]) {
        expect(recorded).not.toContain(secret);
      }
      // The second exchange is the search: it parses back from the recording as the crawler saw it.
      const search = readRecordedPage(recorder.files[1]!);
      expect(search.url).toBe(`${server.url}/search?q=praw&sort=new&type=link&limit=100&raw_json=1`);
      expect(parseRedditPage(search, ctx).mentions).toHaveLength(6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fetches a new token once when the search answers 401', async () => {
    let tokens = 0;
    server = await startFixtureServer({
      '/api/v1/access_token': (_req, res) => {
        tokens += 1;
        sendJson(res, tokenBody.replace(FAKE_TOKEN, `${FAKE_TOKEN}-${tokens}`));
      },
      '/r/Kazakhstan/search': [
        { status: 401, headers: { 'content-type': 'application/json' }, body: '{"message": "Unauthorized", "error": 401}' },
        { headers: { 'content-type': 'application/json' }, file: fixtureUrl('search-r-all-2016.json').pathname },
      ],
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const deps = fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS });
    const target = targetSchema.parse({ query: 'praw', subreddit: 'Kazakhstan', baseUrl: server.url, authUrl: server.url });
    const raw = await fetchRedditPage(target, null, deps);
    expect(parseRedditPage(raw, ctx).mentions).toHaveLength(6);
    expect(server.requests.map((r) => `${r.path} ${r.headers['authorization']?.slice(0, 6)}`)).toEqual([
      '/api/v1/access_token Basic ',
      '/r/Kazakhstan/search bearer',
      '/api/v1/access_token Basic ',
      '/r/Kazakhstan/search bearer',
    ]);
    expect(server.requests[3]?.headers['authorization']).toBe(`bearer ${FAKE_TOKEN}-2`);
    expect(server.requests[1]?.query['restrict_sr']).toBe('1');
  });

  it('says which credentials are wrong without echoing them', async () => {
    server = await startFixtureServer({
      '/api/v1/access_token': [
        { status: 401, headers: { 'content-type': 'application/json' }, body: '{"message": "Unauthorized", "error": 401}' },
        { headers: { 'content-type': 'application/json' }, body: '{"error": "invalid_grant"}' },
        { headers: { 'content-type': 'application/json' }, body: '{"access_token": 42, "token_type": "bearer"}' },
      ],
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const target = targetSchema.parse({ query: 'praw', baseUrl: server.url, authUrl: server.url });
    const attempt = () => fetchRedditPage(target, null, fetchDeps<RedditCredentials>(http!, { credentials: CREDENTIALS })).catch((err: unknown) => err);
    const unauthorized = await attempt();
    expect(unauthorized).toBeInstanceOf(MissingCredentialsError);
    expect((unauthorized as Error).message).toContain('HTTP 401');
    const refused = await attempt();
    expect(refused).toBeInstanceOf(MissingCredentialsError);
    expect((refused as Error).message).toContain('invalid_grant');
    const changed = await attempt();
    expect(changed).toBeInstanceOf(SourceChangedError);
    expect((changed as SourceChangedError).path).toBe('access_token');
    for (const err of [unauthorized, refused, changed]) {
      expect((err as Error).message).not.toContain(CREDENTIALS.clientSecret);
      expect((err as Error).message).not.toContain(Buffer.from(`${CREDENTIALS.clientId}:${CREDENTIALS.clientSecret}`).toString('base64'));
    }
    expect(server.requests.every((r) => r.path === '/api/v1/access_token')).toBe(true);
  });

  it('reports a subreddit that does not exist as an unusable target', async () => {
    server = await startFixtureServer({
      '/api/v1/access_token': { headers: { 'content-type': 'application/json' }, body: tokenBody },
      '/r/nosuchsub/search': { status: 404, headers: { 'content-type': 'application/json' }, body: '{"message": "Not Found", "error": 404}' },
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const target = targetSchema.parse({ query: 'praw', subreddit: 'nosuchsub', baseUrl: server.url, authUrl: server.url });
    const missing = await catchAsync(fetchRedditPage(target, null, fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS })));
    expect(missing).toBeInstanceOf(TargetUnusableError);
    expect((missing as Error).message).toBe('Reddit has no subreddit r/nosuchsub (HTTP 404): it does not exist or was banned; check targets[].params.subreddit');
  });

  it('names the reason Reddit gives for refusing a subreddit, and what to change', async () => {
    const refusals = JSON.parse(readFixtureText('constructed-subreddit-refusals.json')) as Record<string, { status: number; body: unknown }>;
    const routes: Record<string, { status: number; headers: Record<string, string>; body: string }> = {};
    for (const [reason, { status, body }] of Object.entries(refusals)) {
      routes[`/r/acme${reason}/search`] = { status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(body) };
    }
    server = await startFixtureServer({ '/api/v1/access_token': { headers: { 'content-type': 'application/json' }, body: tokenBody }, ...routes });
    http = createHttpClient({ perHostPerSecond: 0 });
    const deps = fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS });
    const refusedFor = async (reason: string) =>
      catchAsync(fetchRedditPage(targetSchema.parse({ query: 'acme', subreddit: `acme${reason}`, baseUrl: server!.url, authUrl: server!.url }), null, deps));

    const expected: Record<string, string> = {
      private: 'r/acmeprivate is private (HTTP 403, reason "private"): only its approved members can read it',
      quarantined: 'r/acmequarantined is quarantined (HTTP 403, reason "quarantined"): Reddit shows it only to a logged-in account that has opted in to it',
      gated: 'r/acmegated is gated (HTTP 403, reason "gated"): Reddit shows it only to a logged-in account that has opted in to it',
      banned: 'r/acmebanned has been banned by Reddit (HTTP 404, reason "banned")',
    };
    for (const [reason, start] of Object.entries(expected)) {
      const err = await refusedFor(reason);
      expect(err, reason).toBeInstanceOf(TargetUnusableError);
      expect((err as Error).message.startsWith(start), (err as Error).message).toBe(true);
      expect((err as Error).message).toMatch(/; remove or change targets\[\]\.params\.subreddit$/);
    }
    // Each refusal is final: asked once, never retried or taken for a block of earshot.
    expect(server.requests.filter((r) => r.path.startsWith('/r/')).map((r) => r.path)).toEqual(Object.keys(expected).map((r) => `/r/acme${r}/search`));
  });

  it('keeps a 403 that names no reason a block, and a 403 block page a block', async () => {
    server = await startFixtureServer({
      '/api/v1/access_token': { headers: { 'content-type': 'application/json' }, body: tokenBody },
      '/r/acme/search': [
        { status: 403, headers: { 'content-type': 'application/json' }, body: '{"message": "Forbidden", "error": 403}' },
        { status: 403, headers: { 'content-type': 'text/html' }, file: fixtureUrl('constructed-blocked.html').pathname },
      ],
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const target = targetSchema.parse({ query: 'acme', subreddit: 'acme', baseUrl: server.url, authUrl: server.url });
    const deps = fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS });
    const forbidden = await catchAsync(fetchRedditPage(target, null, deps));
    expect(forbidden).toBeInstanceOf(BlockedError);
    expect((forbidden as Error).message).toBe(`${server.url}/r/acme/search?q=acme&sort=new&type=link&restrict_sr=1&limit=100&raw_json=1: HTTP 403`);
    const page = await catchAsync(fetchRedditPage(target, null, deps));
    expect(page).toBeInstanceOf(BlockedError);
    expect((page as Error).message).toContain('Reddit network-policy block page');
  });

  it('tells a subreddit Reddit sends on to its subreddit search, and a URL query it sends to /submit', async () => {
    const empty = '{"kind": "Listing", "data": {"after": null, "children": []}}';
    const json = { 'content-type': 'application/json; charset=UTF-8' };
    server = await startFixtureServer({
      '/api/v1/access_token': { headers: json, body: tokenBody },
      '/r/acmenosuch/search': { status: 302, headers: { location: '/subreddits/search.json?q=acmenosuch' } },
      '/subreddits/search.json': { headers: json, body: empty },
      '/search': { status: 302, headers: { location: '/submit?url=https%3A%2F%2Facme.example%2F' } },
      '/submit': { headers: { 'content-type': 'text/html' }, body: '<!doctype html><html><body>submit</body></html>' },
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const deps = fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS });
    const nosuch = await catchAsync(
      fetchRedditPage(targetSchema.parse({ query: 'acme', subreddit: 'acmenosuch', baseUrl: server.url, authUrl: server.url }), null, deps),
    );
    expect(nosuch).toBeInstanceOf(TargetUnusableError);
    expect((nosuch as Error).message).toBe(
      `Reddit has no subreddit r/acmenosuch: it sent the listing on to its subreddit search (${server.url}/subreddits/search.json?q=acmenosuch); check targets[].params.subreddit`,
    );
    const url = await catchAsync(fetchRedditPage(targetSchema.parse({ query: 'https://acme.example/', baseUrl: server.url, authUrl: server.url }), null, deps));
    expect(url).toBeInstanceOf(TargetUnusableError);
    expect((url as Error).message).toMatch(/^Reddit took the search query for a link to submit .*write it as url:"https:\/\/…" in targets\[\]\.params\.query$/);
  });

  it('waits out the X-Ratelimit-Reset of a 429 without Retry-After, or reschedules past it when it is long', async () => {
    const json = { 'content-type': 'application/json; charset=UTF-8' };
    const limited = (reset: string) => ({
      status: 429,
      headers: { 'content-type': 'text/plain', 'x-ratelimit-used': '100', 'x-ratelimit-remaining': '0.0', 'x-ratelimit-reset': reset },
      body: 'Too Many Requests',
    });
    server = await startFixtureServer({
      '/api/v1/access_token': { headers: json, body: tokenBody },
      '/r/acmeshort/search': [limited('2'), { headers: json, file: fixtureUrl('search-r-all-2016.json').pathname }],
      '/r/acmelong/search': limited('420'),
    });
    const clock = createFakeClock(NOW.getTime());
    http = createHttpClient({ perHostPerSecond: 0, now: clock.now, sleep: clock.sleep, random: () => 0 });
    const deps = fetchDeps<RedditCredentials>(http, { credentials: CREDENTIALS });
    const short = await fetchRedditPage(targetSchema.parse({ query: 'praw', subreddit: 'acmeshort', baseUrl: server.url, authUrl: server.url }), null, deps);
    expect(parseRedditPage(short, ctx).mentions).toHaveLength(6);
    expect(clock.sleeps).toEqual([2_000]);

    const long = await catchAsync(fetchRedditPage(targetSchema.parse({ query: 'praw', subreddit: 'acmelong', baseUrl: server.url, authUrl: server.url }), null, deps));
    expect(long).toBeInstanceOf(RateLimitedError);
    expect((long as RateLimitedError).retryAfterMs).toBe(420_000);
    // Longer than the client may sleep: no quick retries that would count against the same window.
    expect(server.requests.filter((r) => r.path === '/r/acmelong/search')).toHaveLength(1);
    expect(clock.sleeps).toEqual([2_000]);
  });

  it('reads the public feed without credentials, and stops at a block page', async () => {
    server = await startFixtureServer({
      '/search.rss': [
        { headers: { 'content-type': 'application/atom+xml; charset=UTF-8' }, file: fixtureUrl('home-2016.atom').pathname },
        { status: 403, headers: { 'content-type': 'text/html' }, file: fixtureUrl('constructed-blocked.html').pathname },
      ],
    });
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const target = targetSchema.parse({ query: 'praw', rssBaseUrl: server.url });
    const raw = await fetchRedditPage(target, null, fetchDeps(http));
    expect(raw.url).toBe(`${server.url}/search.rss?q=praw&sort=new&limit=100`);
    expect(parseRedditPage(raw, ctx).mentions).toHaveLength(24);
    expect(server.requests[0]?.headers['authorization']).toBeUndefined();
    expect(server.requests[0]?.headers['accept']).toContain('application/atom+xml');
    const blocked = await fetchRedditPage(target, null, fetchDeps(http)).catch((err: unknown) => err);
    expect(blocked).toBeInstanceOf(BlockedError);
    expect((blocked as Error).message).toContain('Reddit network-policy block page');
  });
});

describe('runCrawl end to end', () => {
  let store: Store;
  let upstream: FixtureServer;
  let http: PoliteHttpClient;
  let blockFeed = false;
  let tooManyOnce = true;
  let tokenRequests = 0;
  let clock = createFakeClock();
  const pages = searchPages();

  beforeAll(async () => {
    store = await createTestStore();
    upstream = await startFixtureServer({
      '/api/v1/access_token': (req, res) => {
        tokenRequests += 1;
        const good = `Basic ${Buffer.from(`${CREDENTIALS.clientId}:${CREDENTIALS.clientSecret}`).toString('base64')}`;
        if (req.headers['authorization'] !== good) sendJson(res, '{"message": "Unauthorized", "error": 401}', 401);
        else sendJson(res, readFixtureText('constructed-access-token.json'));
      },
      '/search': (req, res) => {
        const after = new URL(req.url ?? '/', 'http://fixture.invalid').searchParams.get('after') ?? '';
        if (after !== '' && tooManyOnce) {
          tooManyOnce = false;
          res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' }).end('Too Many Requests');
          return;
        }
        sendJson(res, pages.get(after) ?? '{"kind": "Listing", "data": {"after": null, "children": []}}');
      },
      '/r/acmeprivate/search': {
        status: 403,
        headers: { 'content-type': 'application/json; charset=UTF-8' },
        body: JSON.stringify((JSON.parse(readFixtureText('constructed-subreddit-refusals.json')) as { private: { body: unknown } }).private.body),
      },
      '/search.rss': (_req, res) => {
        if (blockFeed) res.writeHead(403, { 'content-type': 'text/html' }).end(readFixtureText('constructed-blocked.html'));
        else res.writeHead(200, { 'content-type': 'application/atom+xml; charset=UTF-8' }).end(readFixtureText('home-2016.atom'));
      },
    });
    clock = createFakeClock(NOW.getTime());
    http = createHttpClient({ perHostPerSecond: 0, now: clock.now, sleep: clock.sleep, random: () => 0 });
  });
  afterAll(async () => {
    await store?.close();
    await upstream?.close();
    await http?.close();
  });

  async function setUpTarget(id: string, params: Record<string, unknown>, keywords: string[]): Promise<CrawlTarget> {
    const brand = await upsertBrand(store.db, { name: `Brand ${id}`, keywords }, NOW);
    await upsertTarget(store.db, { id, source: 'reddit', brandIds: [brand.id], params, schedule: '0 * * * *', enabled: true }, NOW);
    return { id, source: 'reddit', params, brands: [brand] };
  }

  function depsWith(credentials: unknown): CrawlDeps {
    return testCrawlDeps(store.db, {
      httpFor: () => http,
      now: () => NOW,
      log: silentLogger,
      policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }),
      credentials: credentials === undefined ? {} : { reddit: credentials },
    });
  }

  async function healthOf(id: string) {
    return store.db.selectFrom('targets').select(['state', 'last_error', 'consecutive_errors']).where('id', '=', id).executeTakeFirstOrThrow();
  }

  it('pages through the OAuth search, waits out a 429, and stops at known posts the next time', async () => {
    const target = await setUpTarget('reddit-oauth', { query: 'praw', baseUrl: upstream.url, authUrl: upstream.url }, ['oauth']);
    const deps = depsWith(CREDENTIALS);
    const first = await runCrawl(deps, target);
    // Five name oauth; one only inside a code identifier ('_use_oauth'), which counts: #kaspi_bank names kaspi.
    expect(first).toMatchObject({ status: 'ok', pages: 3, fetched: 6, new: 5, unmatched: 1, duplicates: 0 });
    expect(clock.sleeps).toEqual([2_000]);
    expect(tokenRequests).toBe(1);
    const stored = await store.db.selectFrom('mentions').select(['external_id', 'url']).where('target_id', '=', 'reddit-oauth').orderBy('external_id').execute();
    expect(stored.map((m) => m.external_id)).toEqual(['t3_1qvzkd', 't3_3b4erh', 't3_3gpbiu', 't3_3qc02b', 't3_3x4kt2']);

    const searchesBefore = upstream.requests.filter((r) => r.path === '/search').length;
    const second = await runCrawl(deps, target);
    expect(second).toMatchObject({ status: 'ok', pages: 1, new: 0, updated: 0 });
    expect(upstream.requests.filter((r) => r.path === '/search').length - searchesBefore).toBe(1);
    // The token of the first crawl is still good: no second token request.
    expect(tokenRequests).toBe(1);
  });

  it('reads the public feed without credentials, then marks the target blocked when Reddit blocks it', async () => {
    const target = await setUpTarget('reddit-rss', { query: 'europe', rssBaseUrl: upstream.url }, ['Europe', 'Canadian']);
    const ok = await runCrawl(depsWith(undefined), target);
    expect(ok).toMatchObject({ status: 'ok', pages: 1, fetched: 24, new: 2, unmatched: 22 });
    const ids = await store.db.selectFrom('mentions').select('external_id').where('target_id', '=', 'reddit-rss').orderBy('external_id').execute();
    expect(ids.map((m) => m.external_id)).toEqual(['t3_42rrzq', 't3_42si7a']);

    blockFeed = true;
    const blocked = await runCrawl(depsWith(undefined), target);
    expect(blocked).toMatchObject({ status: 'failed', errorKind: 'BlockedError', pages: 0 });
    expect(await healthOf('reddit-rss')).toMatchObject({ state: 'blocked', consecutive_errors: 1 });
  });

  it('marks a private subreddit needs_action, saying why and what to change, not blocked', async () => {
    const target = await setUpTarget('reddit-private', { query: 'acme', subreddit: 'acmeprivate', baseUrl: upstream.url, authUrl: upstream.url }, ['acme']);
    const summary = await runCrawl(depsWith(CREDENTIALS), target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'TargetUnusableError', pages: 0 });
    const health = await healthOf('reddit-private');
    expect(health.state).toBe('needs_action');
    expect(health.last_error).toMatch(/^TargetUnusableError: r\/acmeprivate is private \(HTTP 403, reason "private"\).*targets\[\]\.params\.subreddit$/);
  });

  it('disables the target with one clear line when the credentials are wrong', async () => {
    const target = await setUpTarget('reddit-wrong', { query: 'praw', baseUrl: upstream.url, authUrl: upstream.url }, ['praw']);
    const wrong = { clientId: 'test-client-id', clientSecret: 'a-wrong-secret-value' };
    const summary = await runCrawl(depsWith(wrong), target);
    expect(summary).toMatchObject({ status: 'failed', errorKind: 'MissingCredentialsError', pages: 0 });
    const health = await healthOf('reddit-wrong');
    expect(health.state).toBe('disabled');
    expect(health.last_error).toMatch(/^MissingCredentialsError: Reddit refused credentials\.reddit \(HTTP 401\)/);
    expect(health.last_error).not.toContain(wrong.clientSecret);
  });
});

describe('a crawl interrupted at any page', () => {
  // Four fresh databases: on a loaded machine PGlite needs more than the default 30 s.
  it('ends, once re-run, with the mentions of a clean crawl and nothing twice', async () => {
    const pages = searchPages();
    const report = await expectResumableCrawl({
      source: 'reddit',
      credentials: CREDENTIALS,
      keywords: ['praw'],
      params: (server) => ({ query: 'praw', baseUrl: server.url, authUrl: server.url }),
      serve: (onPage) =>
        startFixtureServer({
          '/api/v1/access_token': (_req, res) => sendJson(res, readFixtureText('constructed-access-token.json')),
          '/search': (req, res) => {
            onPage();
            if (res.destroyed) return;
            const after = new URL(req.url ?? '/', 'http://fixture.invalid').searchParams.get('after') ?? '';
            sendJson(res, pages.get(after) ?? '{"kind": "Listing", "data": {"after": null, "children": []}}');
          },
        }),
    });
    expect(report).toMatchObject({ pages: 3, mentions: 6 });
  }, 90_000);
});
