import { load } from 'cheerio';
import type { CheerioAPI } from 'cheerio';
import { detectBlockPage } from '../block-page.ts';
import { BlockedError, SourceChangedError, sourceChangedAt } from '../errors.ts';
import { extractPlainText } from '../html-text.ts';
import type { MentionAuthor, MentionDetails, MentionDraft, MentionMetrics, ParseContext, ParsedPage, RawPage } from '../types.ts';
import { commentSchema, linkSchema, listingSchema } from './schema.ts';
import type { RedditComment, RedditLink } from './schema.ts';
import { toIsoDate } from '../payload.ts';

type Selection = ReturnType<ReturnType<CheerioAPI['root']>['children']>;

const SITE = 'https://www.reddit.com';
const FULLNAME = /^t[13]_[a-z0-9]+$/i;
// A post permalink is /r/<sub>/comments/<post>/<slug>/, a comment's adds /<comment>/.
const PERMALINK_IDS = /\/comments\/([a-z0-9]+)(?:\/[^/?#]*\/([a-z0-9]+))?(?:[/?#]|$)/i;
// The newer block page of Reddit, which block-page.ts does not know yet.
const REDDIT_BLOCK = /blocked by network security/i;

/**
 * One fetched page: a Listing (OAuth JSON) of posts (t3) or comments (t1), or the public Atom feed (or the
 * RSS 2.0 Reddit served until 2016). Pure; a post gets the same id, `t3_…`, whichever way it was read.
 */
export function parseRedditPage(raw: RawPage, _ctx: ParseContext): ParsedPage {
  const body = raw.body.replace(/^\uFEFF/, '');
  const start = body.trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return parseListing(body, raw.url);
  if (isHtmlPage(start)) throw explainHtmlPage(body, raw.url);
  if (start.startsWith('<')) return parseFeedXml(body, raw.url);
  const blockReason = detectBlockPage(body);
  if (blockReason !== null) throw new BlockedError(`${raw.url}: got a ${blockReason} instead of a Reddit listing`);
  throw new SourceChangedError(`${raw.url}: neither a listing (JSON) nor a feed (XML), starts with ${JSON.stringify(start.slice(0, 40))}`, '');
}

function parseListing(body: string, url: string): ParsedPage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new SourceChangedError(`${url}: the listing is not valid JSON`, '');
  }
  const listing = listingSchema.safeParse(json);
  if (!listing.success) throw sourceChangedAt(listing.error.issues, `${url}: Reddit listing`, []);

  const { children, after } = listing.data.data;
  const mentions = children.map((thing, index): MentionDraft => {
    const at = ['data', 'children', index, 'data'];
    if (thing.kind === 't3') {
      const link = linkSchema.safeParse(thing.data);
      if (!link.success) throw sourceChangedAt(link.error.issues, `${url}: Reddit listing`, at);
      return mapLink(link.data);
    }
    if (thing.kind === 't1') {
      const comment = commentSchema.safeParse(thing.data);
      if (!comment.success) throw sourceChangedAt(comment.error.issues, `${url}: Reddit listing`, at);
      return mapComment(comment.data);
    }
    const path = `data.children[${index}].kind`;
    throw new SourceChangedError(`${url}: unexpected ${JSON.stringify(thing.kind)} item at ${path} (expected t3 posts or t1 comments)`, path);
  });
  const unique = dropRepeats(mentions);
  return { mentions: unique, nextCursor: unique.length > 0 ? (after ?? null) : null };
}

function mapLink(link: RedditLink): MentionDraft {
  const url = permalinkUrl(link.permalink);
  const external = link.is_self === true ? null : externalUrl(link.url ?? null, url);
  const details: MentionDetails = { place: `r/${link.subreddit}` };
  if (external) details.links = [external];
  return {
    source: 'reddit',
    externalId: link.name,
    url,
    author: authorOf(link.author, link.author_fullname ?? null, null),
    title: link.title,
    // A link post, or a self post with only a title: the title is all that was said.
    text: meaningfulText(link.selftext) ?? link.title,
    rating: null,
    publishedAt: new Date(link.created_utc * 1000).toISOString(),
    lang: null,
    metrics: metricsOf(link.score, link.num_comments),
    reply: null,
    parentExternalId: null,
    details,
  };
}

function mapComment(comment: RedditComment): MentionDraft {
  return {
    source: 'reddit',
    externalId: comment.name,
    url: permalinkUrl(comment.permalink),
    author: authorOf(comment.author, comment.author_fullname ?? null, null),
    title: null,
    text: comment.body,
    rating: null,
    publishedAt: new Date(comment.created_utc * 1000).toISOString(),
    lang: null,
    metrics: metricsOf(comment.score, undefined),
    reply: null,
    parentExternalId: comment.link_id,
    details: { place: `r/${comment.subreddit}` },
  };
}

/** An entry of the Atom feed or an item of the old RSS 2.0 one, read into what both have in common. */
interface FeedPost {
  fullname: string;
  link: string | null;
  title: string | null;
  /** The entry's HTML: the post's own text in `<div class="md">`, then "submitted by … [link] [comments]". */
  html: string;
  authorName: string | null;
  authorUrl: string | null;
  publishedAt: string;
  subreddit: string | null;
}

function parseFeedXml(body: string, url: string): ParsedPage {
  const $ = load(body, { xml: true });
  const root = $.root().children().first();
  const rootName = root.get(0)?.name ?? '';
  let posts: FeedPost[];
  if (rootName === 'feed') {
    posts = root.children('entry').toArray().map((entry, i) => readAtomEntry($(entry), `feed.entry[${i}]`, url));
  } else if (rootName === 'rss') {
    posts = root.children('channel').children('item').toArray().map((item, i) => readRssItem($(item), `rss.channel.item[${i}]`, url));
  } else if (rootName.toLowerCase() === 'html') {
    throw explainHtmlPage(body, url);
  } else {
    throw new SourceChangedError(`${url}: XML root <${rootName || '?'}> is neither an Atom feed nor RSS`, rootName);
  }
  // The feed is read one page per crawl: without credentials every request counts against a small budget.
  return { mentions: dropRepeats(posts.map(mapFeedPost)), nextCursor: null };
}

function readAtomEntry(entry: Selection, at: string, url: string): FeedPost {
  const link = pickAtomLink(entry);
  const fullname = readFullname(entry.children('id').first().text().trim(), link, `${at}.id`, url);
  const dated = entry.children('published').first().text().trim() || entry.children('updated').first().text().trim();
  const author = entry.children('author').first();
  const authorName = userName(author.children('name').first().text());
  const content = entry.children('content').first();
  return {
    fullname,
    link,
    title: entry.children('title').first().text().trim() || null,
    html: contentHtml(content),
    authorName,
    authorUrl: author.children('uri').first().text().trim() || userUrl(authorName),
    publishedAt: readDate(dated, `${at}.published`, url),
    subreddit: entry.children('category').first().attr('term')?.trim() || subredditOf(link),
  };
}

function readRssItem(item: Selection, at: string, url: string): FeedPost {
  const link = absoluteUrl(item.children('link').first().text().trim()) ?? absoluteUrl(item.children('guid').first().text().trim());
  const html = item.children('description').first().text();
  const author = readSubmitter(html);
  return {
    // RSS 2.0 items carry no fullname: the permalink holds the ids.
    fullname: readFullname('', link, `${at}.guid`, url),
    link,
    title: item.children('title').first().text().trim() || null,
    html,
    authorName: author?.name ?? null,
    authorUrl: author?.url ?? null,
    publishedAt: readDate(item.children('pubDate').first().text().trim(), `${at}.pubDate`, url),
    subreddit: item.children('category').first().text().trim() || subredditOf(link),
  };
}

function mapFeedPost(post: FeedPost): MentionDraft {
  const isComment = post.fullname.startsWith('t1_');
  const { ownHtml, externalLink, comments } = splitEntryHtml(post.html);
  const ownText = ownHtml === null ? null : meaningfulText(extractPlainText(ownHtml));
  // Comment entries are titled "/u/name on <post title>": not the comment's own title.
  const title = isComment ? null : post.title;
  const text = ownText ?? (isComment ? extractPlainText(post.html) || (post.title ?? '') : (post.title ?? ''));
  const external = isComment ? null : externalUrl(externalLink, post.link);
  const details: MentionDetails = {};
  if (post.subreddit) details.place = `r/${post.subreddit}`;
  if (external) details.links = [external];
  const postId = isComment && post.link ? PERMALINK_IDS.exec(post.link)?.[1] : undefined;
  return {
    source: 'reddit',
    externalId: post.fullname,
    url: post.link ? canonicalPermalink(post.link) : null,
    author: authorOf(post.authorName, null, post.authorUrl),
    title,
    text,
    rating: null,
    publishedAt: post.publishedAt,
    lang: null,
    metrics: metricsOf(undefined, comments ?? undefined),
    reply: null,
    parentExternalId: postId ? `t3_${postId.toLowerCase()}` : null,
    details,
  };
}

/** The post's own text (`div.md`), the `[link]` target and the `[N comments]` count of an entry's HTML. */
function splitEntryHtml(html: string): { ownHtml: string | null; externalLink: string | null; comments: number | null } {
  const $ = load(html, null, false);
  const md = $('div.md').first();
  const ownHtml = md.length > 0 ? (md.html() ?? '') : null;
  md.remove();
  let externalLink: string | null = null;
  let comments: number | null = null;
  $('a').each((_, a) => {
    const label = $(a).text().trim();
    if (label === '[link]') externalLink ??= $(a).attr('href') ?? null;
    const count = /^\[(\d+) comments?\]$/.exec(label);
    if (count) comments = Number(count[1]);
  });
  return { ownHtml, externalLink, comments };
}

/** "submitted by <a href=".../user/name">name</a>" of the RSS 2.0 description. */
function readSubmitter(html: string): { name: string; url: string } | null {
  const $ = load(html, null, false);
  $('div.md').remove();
  for (const a of $('a').toArray()) {
    const href = $(a).attr('href') ?? '';
    const name = /\/user\/([^/?#]+)/.exec(href)?.[1];
    if (name) return { name: decodeURIComponent(name), url: absoluteUrl(href) ?? userUrl(name) ?? href };
  }
  return null;
}

function contentHtml(content: Selection): string {
  const type = content.attr('type')?.toLowerCase();
  // xhtml content is markup inside the XML; html content is escaped markup, i.e. the element's text.
  if (type === 'xhtml') return content.html() ?? '';
  if (type === 'text') return escapeHtml(content.text());
  return content.text();
}

function pickAtomLink(entry: Selection): string | null {
  const links = entry.children('link').toArray();
  const alternate = links.find((l) => (l.attribs['rel'] ?? 'alternate') === 'alternate') ?? links[0];
  return absoluteUrl(alternate?.attribs['href']?.trim() ?? '');
}

function readFullname(id: string, link: string | null, path: string, url: string): string {
  if (FULLNAME.test(id)) return id.toLowerCase();
  const ids = link ? PERMALINK_IDS.exec(link) : null;
  if (ids?.[2]) return `t1_${ids[2].toLowerCase()}`;
  if (ids?.[1]) return `t3_${ids[1].toLowerCase()}`;
  throw new SourceChangedError(`${url}: no Reddit id at ${path} (${JSON.stringify(id.slice(0, 40))}) nor in its permalink`, path);
}

function readDate(value: string, path: string, url: string): string {
  const iso = toIsoDate(value);
  if (iso === null) throw new SourceChangedError(`${url}: no readable date at ${path} (${JSON.stringify(value.slice(0, 40))})`, path);
  return iso;
}

function authorOf(name: string | null, id: string | null, url: string | null): MentionAuthor {
  // Deleted accounts keep their posts under "[deleted]": nobody to name or link to.
  if (name === null || name === '[deleted]' || name.trim() === '') return { name: null, id: null, url: null };
  return { name, id, url: url ?? userUrl(name) };
}

function userName(value: string): string | null {
  return value.trim().replace(/^\/?u\//, '') || null;
}

function userUrl(name: string | null): string | null {
  return name && name !== '[deleted]' ? `${SITE}/user/${name}` : null;
}

function metricsOf(score: number | undefined, comments: number | undefined): MentionMetrics {
  const metrics: MentionMetrics = {};
  if (score !== undefined) metrics.votes = score;
  if (comments !== undefined) metrics.comments = comments;
  return metrics;
}

/** Text worth keeping: not empty, and not the placeholder of a removed or deleted post. */
function meaningfulText(value: string | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' || trimmed === '[removed]' || trimmed === '[deleted]' ? null : trimmed;
}

/** The canonical URL of a permalink: search results add `?ref=search_posts`, which would split one post in two. */
function permalinkUrl(permalink: string): string {
  return `${SITE}${permalink.replace(/[?#].*$/, '')}`;
}

function canonicalPermalink(link: string): string {
  return link.replace(/[?#].*$/, '');
}

/** The target of a link post, absolute; null when it is the post itself (self posts point at their permalink). */
function externalUrl(value: string | null, permalink: string | null): string | null {
  const absolute = value ? absoluteUrl(value) : null;
  if (absolute === null) return null;
  const bare = (u: string) => u.replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/^https?:\/\/(?:www\.|old\.)?reddit\.com/i, '');
  return permalink !== null && bare(absolute) === bare(permalink) ? null : absolute;
}

function absoluteUrl(value: string): string | null {
  if (!value) return null;
  try {
    return new URL(value, SITE).href;
  } catch {
    return null;
  }
}

function subredditOf(link: string | null): string | null {
  return link ? (/\/r\/([A-Za-z0-9_]+)\//.exec(link)?.[1] ?? null) : null;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One draft per id: the store's unique key cannot take the same item twice in one batch. */
function dropRepeats(mentions: MentionDraft[]): MentionDraft[] {
  const byId = new Map<string, MentionDraft>();
  for (const mention of mentions) if (!byId.has(mention.externalId)) byId.set(mention.externalId, mention);
  return [...byId.values()];
}

function isHtmlPage(start: string): boolean {
  return /^(?:<!--[\s\S]*?-->\s*)*(?:<!doctype html|<html[\s>])/i.test(start.slice(0, 2048));
}

function explainHtmlPage(body: string, url: string): Error {
  const blockReason = detectBlockPage(body) ?? (REDDIT_BLOCK.test(body) ? 'Reddit network-security block page' : null);
  if (blockReason !== null) return new BlockedError(`${url}: got a ${blockReason} instead of a Reddit listing`);
  return new SourceChangedError(`${url}: got an HTML page instead of a Reddit listing or feed`, '');
}

