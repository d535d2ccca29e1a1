import { createHash } from 'node:crypto';
import { load } from 'cheerio';
import Parser from 'rss-parser';
import { detectBlockPage } from '../block-page.ts';
import { BlockedError, SourceChangedError, TargetUnusableError, sourceChangedAt } from '../errors.ts';
import { redactUrl } from '../http.ts';
import type { MentionAuthor, MentionDraft, ParseContext, ParsedPage, RawPage } from '../types.ts';
import { extractPlainText } from '../html-text.ts';
import { parsedFeedSchema } from './schema.ts';
import type { FeedItem, ParsedFeed } from './schema.ts';
import { toIsoDate } from '../payload.ts';

/** A fresh parser per document: rss-parser fills in its options object and xml2js keeps per-parse listeners. */
function createParser(): Parser {
  return new Parser({
    // A bare `<rss>` without a version (uolNoticias) is RSS 2 in practice.
    defaultRSS: 2,
    customFields: { item: [['source', 'newsSource', { keepArray: true }]] },
  });
}

/** The feed object rss-parser builds from a decoded XML string; every failure is a SourceChangedError. */
async function readFeedXml(xml: string, url: string): Promise<unknown> {
  try {
    return await createParser().parseString(xml);
  } catch (err) {
    // The usual breakage of hand-made feeds is a bare "&" ("Q&A"); escape those once and try again.
    const repaired = escapeBareAmpersands(xml);
    if (repaired !== xml) {
      try {
        return await createParser().parseString(repaired);
      } catch {
        // Report what was wrong with the feed as served, not with our repair.
      }
    }
    throw toSourceChangedError(err, xml, url);
  }
}

/** Maps rss-parser's and xml2js's plain Errors onto the crawler's error contract. */
function toSourceChangedError(err: unknown, xml: string, url: string): SourceChangedError {
  const message = err instanceof Error ? err.message : String(err);
  // rss-parser: xml2js returned no document (empty or blank input).
  if (message === 'Unable to parse XML.') return new SourceChangedError(`${url}: empty XML document`);
  // rss-parser: well-formed XML whose root is none of <rss>, <rdf:RDF>, <feed>.
  if (message.startsWith('Feed not recognized')) {
    return new SourceChangedError(`${url}: XML root <${rootElementName(xml) ?? '?'}> is not RSS, RDF or Atom`);
  }
  // xml2js (sax) errors: "Unexpected close tag\nLine: 3\nColumn: 7\nChar: >" and the like.
  if (/\nLine: \d+\nColumn: \d+/.test(message)) {
    return new SourceChangedError(`${url}: not well-formed XML: ${firstLine(message)}`);
  }
  // rss-parser's builders throw too, e.g. on an unparseable Atom <published>.
  return new SourceChangedError(`cannot read feed ${url}: ${firstLine(message)}`);
}

function rootElementName(xml: string): string | undefined {
  return /<([A-Za-z_][\w:.-]*)/.exec(xml.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<![^>]*>/g, ''))?.[1];
}

function escapeBareAmpersands(xml: string): string {
  const bareAmpersand = /&(?!(?:[A-Za-z][A-Za-z0-9._-]*|#\d+|#x[0-9A-Fa-f]+);)/g;
  return xml
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(bareAmpersand, '&amp;')))
    .join('');
}

/** Parse one fetched feed into mentions. Pure: the same RawPage always gives the same drafts. */
export async function parseFeed(raw: RawPage, _ctx: ParseContext): Promise<ParsedPage> {
  const body = raw.body.replace(/^\uFEFF/, '');
  assertNotHtmlPage(body, raw.url);

  const checked = parsedFeedSchema.safeParse(await readFeedXml(body, raw.url));
  if (!checked.success) throw sourceChangedAt(checked.error.issues, 'feed');
  const feed: ParsedFeed = checked.data;

  const feedHost = hostOf(raw.url);
  const mentions: MentionDraft[] = [];
  const seen = new Set<string>();
  for (const item of feed.items) {
    const mention = mapItem(item, raw.url, feedHost);
    // Feeds sometimes repeat an item; one draft per id keeps the page consistent with the store's unique key.
    if (mention && !seen.has(mention.externalId)) {
      seen.add(mention.externalId);
      mentions.push(mention);
    }
  }
  return { mentions, nextCursor: null };
}

function assertNotHtmlPage(body: string, url: string): void {
  const head = body.slice(0, 2048).trimStart().toLowerCase();
  const isHtml = /^(?:<!--[\s\S]*?-->\s*)*(?:<!doctype html|<html[\s>])/.test(head);
  if (!isHtml) return;
  const blockReason = detectBlockPage(body);
  if (blockReason !== null) throw new BlockedError(`${url}: got a ${blockReason} instead of a feed`);
  // earshot builds a Google News search URL itself: a page there means Google changed, not the target.
  if (isGoogleNewsSearch(url)) throw new SourceChangedError(`${url}: got an HTML page instead of a feed`);
  const feeds = discoverFeeds(body, url);
  const shown = redactUrl(url);
  if (feeds.length > 0) {
    throw new TargetUnusableError(
      `${shown} is a web page, not an RSS or Atom feed; the page names its feed at ${feeds.join(', ')}: set targets[].params.url to it`,
    );
  }
  throw new TargetUnusableError(
    `${shown} is a web page, not an RSS or Atom feed, and names no feed of its own: set targets[].params.url to the address of the site's feed`,
  );
}

/** The URL a googleNews target becomes (`…/rss/search?q=…&ceid=…`, see fetch.ts). */
function isGoogleNewsSearch(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.pathname.endsWith('/rss/search') && parsed.searchParams.has('ceid');
  } catch {
    return false;
  }
}

/** Feeds a page announces for autodiscovery: `<link rel="alternate" type="application/rss+xml" href="…">`, absolute. */
function discoverFeeds(html: string, pageUrl: string): string[] {
  const $ = load(html);
  const found = $('link[href]')
    .toArray()
    .filter((link) => {
      const rel = ($(link).attr('rel') ?? '').toLowerCase().split(/\s+/);
      const type = ($(link).attr('type') ?? '').toLowerCase().trim();
      return rel.includes('alternate') && (type === 'application/rss+xml' || type === 'application/atom+xml');
    })
    .map((link) => toAbsoluteUrl($(link).attr('href'), pageUrl))
    .filter((href): href is string => href !== null && /^https?:/i.test(href))
    .map(redactUrl);
  return [...new Set(found)].slice(0, 3);
}

function mapItem(item: FeedItem, feedUrl: string, feedHost: string): MentionDraft | null {
  const link = toAbsoluteUrl(item.link, feedUrl);
  const googleNews = isGoogleNewsLink(link);
  const title = item.title !== undefined ? extractPlainText(item.title) || null : null;
  const html = item['content:encoded'] ?? item.content ?? item.summary ?? '';
  const text = extractPlainText(googleNews ? dropFullCoverageLink(html) : html);
  const publishedAt = toIsoDate(item.isoDate);

  const externalId = pickExternalId(item, link, title, text, feedHost);
  if (externalId === null) return null;

  return {
    source: 'rss',
    externalId,
    url: link,
    author: pickAuthor(item),
    title,
    text,
    rating: null,
    publishedAt,
    lang: null,
    metrics: {},
    reply: null,
    parentExternalId: null,
  };
}

/**
 * guid / Atom id, else link, else a hash of title and pubDate. A guid that is not itself a URI (Google News
 * and many CMSs use bare numbers) is prefixed with the feed's host, so two feeds cannot collide in the
 * store's (source, externalId) key.
 */
function pickExternalId(
  item: FeedItem,
  link: string | null,
  title: string | null,
  text: string,
  feedHost: string,
): string | null {
  const guid = (item.guid ?? item.id)?.trim();
  if (guid) return /^[a-z][a-z0-9+.-]*:/i.test(guid) ? guid : `${feedHost}/${guid}`;
  if (link) return link;
  const basis = title || item.pubDate ? `${title ?? ''}\n${item.pubDate?.trim() ?? ''}` : text;
  if (!basis) return null;
  return `${feedHost}/sha256:${createHash('sha256').update(basis).digest('hex').slice(0, 32)}`;
}

function pickAuthor(item: FeedItem): MentionAuthor {
  const source = item.newsSource?.[0];
  const raw = item.creator ?? item.author;
  const name = raw ? authorName(raw) : null;
  if (name) return { name };
  const sourceName = source?._?.trim();
  if (sourceName) return { name: sourceName, url: source?.$?.url ?? null };
  return { name: null };
}

// RSS 2.0 <author> is an email, often "jane@example.com (Jane Doe)".
function authorName(value: string): string | null {
  const trimmed = value.trim();
  const inParens = /^\S+@\S+\s+\((.+)\)$/.exec(trimmed);
  return (inParens?.[1] ?? trimmed) || null;
}

function isGoogleNewsLink(link: string | null): boolean {
  return link !== null && /^https?:\/\/news\.google\.com\//.test(link);
}

// The last cluster entry is "see full coverage on Google News", not a headline: it would match "Google".
function dropFullCoverageLink(html: string): string {
  const fullCoverage =
    /<li>\s*<strong>\s*<a\b[^>]*href="[^"]*news\.google\.com\/stories\/[^"]*"[^>]*>[\s\S]*?<\/a>\s*<\/strong>\s*<\/li>/gi;
  return html.replace(fullCoverage, '');
}

function toAbsoluteUrl(link: string | undefined, base: string): string | null {
  const trimmed = link?.trim();
  if (!trimmed) return null;
  try {
    return new URL(trimmed, base).href;
  } catch {
    return null;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unknown-host';
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
