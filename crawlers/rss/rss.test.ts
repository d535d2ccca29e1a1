import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { BlockedError, SourceChangedError, SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import { createHttpClient, decodeBody } from '../http.ts';
import type { PoliteHttpClient } from '../http.ts';
import type { MentionDraft, RawPage } from '../types.ts';
import { buildFeedUrl, buildGoogleNewsUrl, fetchFeed } from './fetch.ts';
import { decodeHtmlEntities, extractPlainText } from '../html-text.ts';
import { rss } from './index.ts';
import { parseFeed } from './parse.ts';
import { targetSchema } from './schema.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { catchAsync } from '../../tests/helpers/catch-error.ts';

const ctx = { fetchedAt: new Date('2025-03-01T12:00:00Z') };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LATIN1 = 'text/xml; charset=ISO-8859-1';

function readFixture(name: string): Buffer {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

function readExpected(name: string): { title?: string; link?: string; id?: string; isoDate?: string }[] {
  return (JSON.parse(readFixture(name).toString('utf8')) as { feed: { items: [] } }).feed.items;
}

function rawPage(body: string, url = 'https://feeds.example.com/feed.xml', contentType: string | null = null): RawPage {
  return { url, status: 200, contentType, body, cursor: null };
}

async function parseFixture(name: string, contentType: string | null = null, url?: string): Promise<MentionDraft[]> {
  const body = decodeBody(readFixture(name), contentType);
  return (await parseFeed(rawPage(body, url, contentType), ctx)).mentions;
}

// rss-parser's own outputs decoded latin-1 bytes as utf-8 (U+FFFD for every accented letter) and keep
// whitespace as is; compare the visible ASCII only.
function toVisibleAscii(text: string | undefined): string {
  return (text ?? '').replace(/[^\x21-\x7e]/g, '');
}

const GOOGLE_NEWS_SEARCH = 'https://news.google.com/rss/search?q=coronavirus&hl=fr&gl=BE&ceid=BE:fr';

const ALL_FIXTURES: [string, string | null][] = [
  ['heise.atom', null],
  ['encoding-iso-8859-1.rss', null],
  ['uol-noticias-latin1.rss', LATIN1],
  ['content-encoded.rss', null],
  ['guardian-trimmed.rss', null],
  ['feedburner-trimmed.atom', null],
  ['google-news-topstories-fr-be.xml', null],
];

describe('rss crawler metadata', () => {
  it('is wired as the registry expects', () => {
    expect(rss).toMatchObject({
      id: 'rss',
      matchKeywords: true,
      stopAtSeen: false,
      maxPages: 1,
      defaultSchedule: '*/30 * * * *',
      rateLimit: { perHostPerSecond: 1 },
      expectedQuietDays: 7,
    });
  });
});

describe('parseFeed on recordings', () => {
  it('maps the heise Atom feed like rss-parser upstream expects', async () => {
    const mentions = await parseFixture('heise.atom');
    const expected = readExpected('heise.expected.json');
    expect(mentions).toHaveLength(15);
    expect(mentions[0]).toEqual({
      source: 'rss',
      externalId: 'http://heise.de/-3088438',
      url: 'http://www.heise.de/developer/meldung/Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html?wt_mc=rss.developer.beitrag.atom',
      author: { name: null },
      title: 'Java-Anwendungsserver: Red Hat gibt WildFly 10 frei',
      text: 'Die nun verfügbare Version 10 des Enterprise-Java-Servers stellt die Basis für Red Hats kommerzielle JBoss Enterprise Application Platform 7 ist zugleich das dritte größere Release seit dem Namenswechsel des Open-Source-Projekts.',
      rating: null,
      publishedAt: '2016-02-01T16:22:00.000Z',
      lang: null,
      metrics: {},
      reply: null,
      parentExternalId: null,
    });
    mentions.forEach((m, i) => {
      // We collapse whitespace in titles; upstream keeps a trailing space in one of them.
      expect(m.title).toBe(expected[i]?.title?.replace(/\s+/g, ' ').trim());
      expect(m.url).toBe(expected[i]?.link);
      expect(m.externalId).toBe(expected[i]?.id);
      expect(m.publishedAt).toBe(expected[i]?.isoDate ?? null);
    });
  });

  it('decodes the ISO-8859-1 feed through its XML prolog', async () => {
    const mentions = await parseFixture('encoding-iso-8859-1.rss');
    const expected = readExpected('encoding-iso-8859-1.expected.json');
    expect(mentions).toHaveLength(40);
    expect(mentions[0]?.title).toBe('Mãe de utente é a nova presidente da Raríssimas');
    expect(mentions[0]?.text).toBe(
      'Sónia Laygue, profissional na área da Recursos Humanos e mãe de uma criança de três anos, utente na Casa dos Marcos, é a nova presidente da direção da Raríssimas.',
    );
    // The recording's pubDate ends in "\r\n      "; the date must survive it.
    expect(mentions[0]?.publishedAt).toBe('2018-01-03T13:47:00.000Z');
    mentions.forEach((m, i) => {
      expect(toVisibleAscii(m.title ?? '')).toBe(toVisibleAscii(expected[i]?.title));
      expect(m.url).toBe(expected[i]?.link);
      expect(m.publishedAt).toBe(expected[i]?.isoDate ?? null);
    });
  });

  it('decodes the latin-1 feed without a prolog from the header charset, and dates it null', async () => {
    const mentions = await parseFixture('uol-noticias-latin1.rss', LATIN1);
    const expected = readExpected('uol-noticias-latin1.expected.json');
    expect(mentions).toHaveLength(15);
    expect(mentions[0]?.title).toBe('Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno');
    mentions.forEach((m, i) => {
      expect(toVisibleAscii(m.title ?? '')).toBe(toVisibleAscii(expected[i]?.title));
      expect(m.url).toBe(expected[i]?.link);
      // "Seg, 24 Set 2018 19:42:40 -0300": Portuguese day and month names, so no date rather than a guess.
      expect(m.publishedAt).toBeNull();
    });
  });

  it('shows why the charset matters: the same latin-1 bytes read as utf-8 are mangled', () => {
    const body = decodeBody(readFixture('uol-noticias-latin1.rss'), null);
    expect(body).toContain('simula\uFFFD\uFFFDes');
    expect(body).not.toContain('simulações');
  });

  it('maps a Google News item: headline title kept, cluster list as text, publisher as author', async () => {
    const mentions = await parseFixture('google-news-topstories-fr-be.xml', null, GOOGLE_NEWS_SEARCH);
    expect(mentions).toHaveLength(1);
    const [item] = mentions;
    expect(item?.title).toBe(
      'Coronavirus en Belgique: 200 cas détectés au total, un nombre limité de tests effectués par manque de réactifs - RTBF',
    );
    expect(item?.externalId).toBe('news.google.com/52782335008021');
    expect(item?.url).toMatch(/^https:\/\/news\.google\.com\/__i\/rss\/rd\/articles\/CBMi.+\?oc=5$/);
    expect(item?.author).toEqual({ name: 'RTBF', url: 'https://www.rtbf.be' });
    expect(item?.publishedAt).toBe('2020-03-08T10:32:07.000Z');
    expect(item?.text.split('\n')).toEqual([
      'Coronavirus en Belgique: 200 cas détectés au total, un nombre limité de tests effectués par manque de réactifs RTBF',
      'Coronavirus: 31 nouvelles infections en Belgique, dont 7 en Wallonie, le total porté à 200 Sudinfo.be',
      'La Belgique annonce 31 nouveaux cas de coronavirus: un total de 200 personnes contaminées dh.be',
      'Coronavirus en Belgique: 31 nouvelles infections, 200 cas recensés Le Soir',
      'Covid-19 : deux premiers cas de coronavirus confirmés en Wallonie picarde Notélé',
    ]);
  });

  it('reads dc:creator, content:encoded and Blogger Atom authors', async () => {
    const medium = await parseFixture('content-encoded.rss');
    expect(medium).toHaveLength(7);
    expect(medium[0]).toMatchObject({
      externalId: 'https://medium.com/p/125af37d838f',
      author: { name: 'Jeremy Puma' },
      title: 'THE CREATIVE FORAGER',
      publishedAt: '2018-04-09T18:55:38.000Z',
    });
    expect(medium[0]?.text).toMatch(/^Using Wild Ingredients in the Kitchen\nHEY, YOU!/);

    const guardian = await parseFixture('guardian-trimmed.rss');
    expect(guardian).toHaveLength(10);
    expect(guardian[0]?.author.name).toBe('David Smith in Washington');

    const blogger = await parseFixture('feedburner-trimmed.atom');
    expect(blogger).toHaveLength(5);
    expect(blogger[0]).toMatchObject({
      externalId: 'tag:blogger.com,1999:blog-7815614485808579332.post-8394866751819460570',
      author: { name: 'Google Ads Developer Advisor' },
      publishedAt: '2016-06-03T14:38:00.000Z',
    });
  });

  it.each(ALL_FIXTURES)('%s: unique, stable ids, plain text and honest dates', async (name, contentType) => {
    const first = await parseFixture(name, contentType);
    const second = await parseFixture(name, contentType);
    expect(second).toEqual(first);
    expect(first.length).toBeGreaterThan(0);
    expect(new Set(first.map((m) => m.externalId)).size).toBe(first.length);
    for (const m of first) {
      expect(m.source).toBe('rss');
      expect(m.publishedAt === null || ISO.test(m.publishedAt)).toBe(true);
      expect(m.text).not.toMatch(/<\/?[a-z][^>]*>|&(?:amp|lt|gt|nbsp|quot);/i);
      expect(m.text).not.toMatch(/[ \t]{2,}|\n\n/);
    }
  });
});

describe('parseFeed edge cases', () => {
  it('returns no mentions for a channel without items', async () => {
    const xml = decodeBody(readFixture('google-news-topstories-fr-be.xml'), null).replace(/<item>[\s\S]*<\/item>/, '');
    expect(xml).toContain('<channel>');
    expect(await parseFeed(rawPage(xml), ctx)).toEqual({ mentions: [], nextCursor: null });
  });

  it('returns no mentions for an Atom feed without entries', async () => {
    const xml = decodeBody(readFixture('heise.atom'), null).replace(/<entry>[\s\S]*<\/entry>/, '');
    expect(await parseFeed(rawPage(xml), ctx)).toEqual({ mentions: [], nextCursor: null });
  });

  it('throws SourceChangedError on garbage, truncated XML and foreign XML', async () => {
    const cases = [
      'this is not a feed',
      '',
      decodeBody(readFixture('heise.atom'), null).slice(0, 5_000),
      '<?xml version="1.0"?><sitemap><url>https://example.com/</url></sitemap>',
    ];
    for (const body of cases) {
      await expect(parseFeed(rawPage(body), ctx), JSON.stringify(body.slice(0, 30))).rejects.toThrow(SourceChangedError);
    }
  });

  it('calls a web page at a feed URL an unusable target, naming the feeds the page announces', async () => {
    const site = readFixture('constructed-site-page.html').toString('utf8');
    const announced = await catchAsync(parseFeed(rawPage(site, 'https://news.acme.example/'), ctx));
    expect(announced).toBeInstanceOf(TargetUnusableError);
    expect((announced as Error).message).toBe(
      'https://news.acme.example/ is a web page, not an RSS or Atom feed; the page names its feed at ' +
        'https://news.acme.example/rss/all.xml, https://news.acme.example/atom.xml: set targets[].params.url to it',
    );
    const bare = '<!DOCTYPE html><html><head><title>Welcome</title></head><body>New website!</body></html>';
    const none = await catchAsync(parseFeed(rawPage(bare, 'https://feeds.example.com/feed.xml?token=s3cret'), ctx));
    expect(none).toBeInstanceOf(TargetUnusableError);
    expect((none as Error).message).toBe(
      'https://feeds.example.com/feed.xml?token=*** is a web page, not an RSS or Atom feed, and names no feed of its own: ' +
        'set targets[].params.url to the address of the site\'s feed',
    );
    // A Google News search URL is earshot's own: a page there is Google's change, for maintainers.
    await expect(parseFeed(rawPage(bare, GOOGLE_NEWS_SEARCH), ctx)).rejects.toThrow(SourceChangedError);
  });

  it('throws BlockedError on a captcha or consent wall', async () => {
    const captcha =
      '<!DOCTYPE html><html><head><title>Ой!</title></head><body><form action="/checkcaptcha">Подтвердите, что запросы отправляли вы, а не робот<div class="SmartCaptcha"></div></form></body></html>';
    const consent =
      '<html lang="en"><head><title>Before you continue to Google News</title></head><body><form action="https://consent.google.com/save"></form></body></html>';
    await expect(parseFeed(rawPage(captcha), ctx)).rejects.toThrow(BlockedError);
    await expect(parseFeed(rawPage(consent), ctx)).rejects.toThrow(BlockedError);
  });

  it('falls back to the link, then to a stable hash, never to the fetch time', async () => {
    const feed = (items: string) =>
      `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>${items}</channel></rss>`;
    const body = feed(
      '<item><title>Linked</title><link>/news/1</link></item>' +
        '<item><title>Bare</title><pubDate>Tue, 04 Mar 2025 10:00:00 GMT</pubDate><description>x</description></item>' +
        '<item><title>Other</title><pubDate>Tue, 04 Mar 2025 10:00:00 GMT</pubDate></item>' +
        '<item><author>desk@example.kz (Aida N.)</author><description>Only a body</description></item>',
    );
    const page = await parseFeed(rawPage(body), ctx);
    const later = await parseFeed(rawPage(body), { fetchedAt: new Date('2030-01-01T00:00:00Z') });
    expect(later).toEqual(page);
    const [linked, bare, other, anonymous] = page.mentions;
    expect(linked?.externalId).toBe('https://feeds.example.com/news/1');
    expect(linked?.url).toBe('https://feeds.example.com/news/1');
    expect(bare?.externalId).toMatch(/^feeds\.example\.com\/sha256:[0-9a-f]{32}$/);
    expect(other?.externalId).toMatch(/^feeds\.example\.com\/sha256:/);
    expect(other?.externalId).not.toBe(bare?.externalId);
    expect(anonymous?.author.name).toBe('Aida N.');
    expect(anonymous?.title).toBeNull();
    expect(anonymous?.publishedAt).toBeNull();
  });

  it('scopes bare guids by feed host and keeps URI guids as they are', async () => {
    const body =
      '<rss version="2.0"><channel><item><guid isPermaLink="false">1001</guid><title>a</title></item>' +
      '<item><guid>urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66</guid><title>b</title></item></channel></rss>';
    const ids = (await parseFeed(rawPage(body, 'https://news.example.kz/rss'), ctx)).mentions.map((m) => m.externalId);
    expect(ids).toEqual(['news.example.kz/1001', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66']);
  });

  it('repairs a bare ampersand, the common hand-made feed breakage', async () => {
    const body =
      '<?xml version="1.0"?><rss version="2.0"><channel><title>Q&A</title>' +
      '<item><title>Q&A with the CEO &amp; CFO</title><link>https://example.kz/a?x=1&y=2</link>' +
      '<description><![CDATA[<p>Tom &amp; Jerry & co</p>]]></description></item></channel></rss>';
    const [item] = (await parseFeed(rawPage(body), ctx)).mentions;
    expect(item?.title).toBe('Q&A with the CEO & CFO');
    expect(item?.url).toBe('https://example.kz/a?x=1&y=2');
    expect(item?.text).toBe('Tom & Jerry & co');
  });

  it('keeps one draft when a feed repeats an item', async () => {
    const item = '<item><guid>https://example.com/a</guid><title>a</title></item>';
    const body = `<rss version="2.0"><channel>${item}${item}</channel></rss>`;
    expect((await parseFeed(rawPage(body), ctx)).mentions).toHaveLength(1);
  });
});

describe('html to text', () => {
  it('strips tags, decodes entities and collapses whitespace', () => {
    expect(extractPlainText('<p>Kaspi&nbsp;&amp; Halyk</p>\n\n<p>  &laquo;отлично&raquo; &#8212; &#x41;  </p><script>x()</script>')).toBe(
      'Kaspi & Halyk\n«отлично» — A',
    );
    expect(decodeHtmlEntities('&eacute;&yuml;&unknown;&#0;')).toBe('éÿ&unknown;\uFFFD');
  });
});

describe('Google News targets', () => {
  it('defaults to Russian in Kazakhstan with consistent hl, gl and ceid', () => {
    const target = targetSchema.parse({ googleNews: { query: 'Kaspi банк' } });
    expect(target).toEqual({
      googleNews: { query: 'Kaspi банк', language: 'ru', country: 'KZ' },
      baseUrl: 'https://news.google.com',
    });
    expect(buildFeedUrl(target)).toBe(
      'https://news.google.com/rss/search?q=Kaspi%20%D0%B1%D0%B0%D0%BD%D0%BA&hl=ru&gl=KZ&ceid=KZ:ru',
    );
  });

  it('keeps operators in the query and drops a region that repeats the country from ceid', () => {
    const target = targetSchema.parse({
      googleNews: { query: '"Air Astana" when:1d', language: 'en-US', country: 'us' },
      baseUrl: 'http://127.0.0.1:9999/',
    });
    if (!('googleNews' in target)) throw new Error('expected a Google News target');
    expect(buildGoogleNewsUrl(target)).toBe(
      'http://127.0.0.1:9999/rss/search?q=%22Air%20Astana%22%20when%3A1d&hl=en-US&gl=US&ceid=US:en',
    );
  });

  it('accepts a plain feed URL and rejects malformed targets', () => {
    expect(buildFeedUrl(targetSchema.parse({ url: 'https://example.com/feed.xml' }))).toBe('https://example.com/feed.xml');
    expect(targetSchema.safeParse({ url: 'not a url' }).success).toBe(false);
    expect(targetSchema.safeParse({ url: 'ftp://example.com/feed' }).success).toBe(false);
    expect(targetSchema.safeParse({ googleNews: { query: '  ' } }).success).toBe(false);
    expect(targetSchema.safeParse({ googleNews: { query: 'x', country: 'KAZ' } }).success).toBe(false);
  });
});

describe('fetchFeed end to end', () => {
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  afterEach(async () => {
    await server?.close();
    await http?.close();
  });

  it('fetches a Google News search and a latin-1 feed from a local server and parses them', async () => {
    server = await startFixtureServer({
      '/rss/search?q=coronavirus&hl=fr&gl=BE&ceid=BE:fr': {
        headers: { 'content-type': 'application/xml; charset=UTF-8' },
        file: new URL('./fixtures/google-news-topstories-fr-be.xml', import.meta.url).pathname,
      },
      '/uol.rss': { headers: { 'content-type': LATIN1 }, body: readFixture('uol-noticias-latin1.rss') },
    });
    const sleeps: number[] = [];
    http = createHttpClient({ sleep: async (ms) => void sleeps.push(ms), now: () => 0 });

    const target = targetSchema.parse({
      googleNews: { query: 'coronavirus', language: 'fr', country: 'BE' },
      baseUrl: server.url,
    });
    const raw = await rss.fetchPage(target, null, fetchDeps(http));
    expect(raw).toMatchObject({ status: 200, cursor: null, contentType: 'application/xml; charset=UTF-8' });
    const page = await rss.parse(raw, ctx);
    expect(page.nextCursor).toBeNull();
    expect(page.mentions.map((m) => m.author.name)).toEqual(['RTBF']);
    expect(page.mentions[0]?.externalId).toBe(`${new URL(server.url).host}/52782335008021`);

    const uol = await fetchFeed(targetSchema.parse({ url: `${server.url}/uol.rss` }), null, fetchDeps(http));
    expect((await parseFeed(uol, ctx)).mentions[0]?.title).toContain('simulações');

    expect(server.requests.map((r) => r.path)).toEqual(['/rss/search', '/uol.rss']);
    expect(server.requests[0]?.query).toEqual({ q: 'coronavirus', hl: 'fr', gl: 'BE', ceid: 'BE:fr' });
    expect(server.requests[0]?.headers['accept']).toContain('application/rss+xml');
    expect(server.requests[0]?.headers['user-agent']).toMatch(/^earshot\//);
    // Same host twice at one request per second: the second waited its slot.
    expect(sleeps).toEqual([1_000]);
  });

  it('tells a feed URL that is gone, missing or behind a login from an outage, without retrying it', async () => {
    server = await startFixtureServer({
      '/gone.xml': { status: 410, body: 'Gone' },
      '/missing.xml': { status: 404, body: 'Not Found' },
      '/members.xml': { status: 401, headers: { 'www-authenticate': 'Basic realm="members"' }, body: 'Unauthorized' },
      '/down.xml': { status: 503, body: 'maintenance' },
    });
    http = createHttpClient({ sleep: async () => undefined, perHostPerSecond: 0, retries: 1 });
    const fetchOf = (path: string) => catchAsync(fetchFeed(targetSchema.parse({ url: `${server!.url}${path}` }), null, fetchDeps(http!)));

    const gone = await fetchOf('/gone.xml');
    expect(gone).toBeInstanceOf(TargetUnusableError);
    expect((gone as Error).message).toBe(
      `${server.url}/gone.xml answers HTTP 410 (gone): the site has removed this feed for good; remove the target or set targets[].params.url to the feed's new address`,
    );
    const missing = await fetchOf('/missing.xml');
    expect(missing).toBeInstanceOf(TargetUnusableError);
    expect((missing as Error).message).toMatch(/answers HTTP 404 \(not found\): check targets\[\]\.params\.url/);
    const login = await fetchOf('/members.xml');
    expect(login).toBeInstanceOf(TargetUnusableError);
    expect((login as Error).message).toMatch(/answers HTTP 401 \(the feed needs a login\): earshot reads public feeds only/);
    // A server error is still an outage, tried again later.
    expect(await fetchOf('/down.xml')).toBeInstanceOf(SourceUnavailableError);
    expect(server.requests.map((r) => r.path)).toEqual(['/gone.xml', '/missing.xml', '/members.xml', '/down.xml', '/down.xml']);

    // A Google News search that answers 404 is not the user's URL to fix.
    const news = await catchAsync(
      fetchFeed(targetSchema.parse({ googleNews: { query: 'acme' }, baseUrl: server.url }), null, fetchDeps(http)),
    );
    expect(news).toBeInstanceOf(SourceUnavailableError);
  });

  it('turns a served captcha page into BlockedError at parse time', async () => {
    server = await startFixtureServer({
      '/feed': { headers: { 'content-type': 'text/html' }, body: '<html><body><div class="g-recaptcha"></div></body></html>' },
    });
    http = createHttpClient({ sleep: async () => undefined });
    const raw = await fetchFeed({ url: `${server.url}/feed` }, null, fetchDeps(http));
    await expect(parseFeed(raw, ctx)).rejects.toThrow(BlockedError);
  });
});
