import { SourceChangedError, sourceChangedAt } from '../errors.ts';
import type { MentionDraft, MentionMetrics, ParseContext, ParsedPage, RawPage } from '../types.ts';
import { MAX_PAGE, reviewEntrySchema, reviewsPayloadSchema } from './schema.ts';
import type { FeedLinks, ReviewEntry } from './schema.ts';
import { toIsoDate } from '../payload.ts';

const FEED_PATH = /\/([a-z]{2})\/rss\/customerreviews\/(?:page=(\d+)\/)?id=(\d+)/i;

interface FeedLocation {
  country: string | null;
  appId: string | null;
  page: number;
}

/** Parse one customer-reviews JSON page. Pure: country, app and page come from the page URL or the feed. */
export function parseReviews(raw: RawPage, _ctx: ParseContext): ParsedPage {
  let json: unknown;
  try {
    json = JSON.parse(raw.body);
  } catch {
    const start = JSON.stringify(raw.body.slice(0, 40));
    throw new SourceChangedError(`${raw.url}: response is not JSON (starts with ${start})`);
  }
  const payload = reviewsPayloadSchema.safeParse(json);
  if (!payload.success) throw sourceChangedAt(payload.error.issues, 'app-store feed');

  const { entry, link } = payload.data.feed;
  const entries = entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
  const location = locateFeed(raw, link);
  const appReviewsUrl =
    location.country && location.appId
      ? `https://apps.apple.com/${location.country}/app/id${location.appId}?see-all=reviews`
      : null;

  const mentions: MentionDraft[] = [];
  entries.forEach((candidate, index) => {
    // Old feeds open with an entry describing the app itself (it has im:name); anything else must be a
    // review, so an entry that lost its rating is a changed shape, not something to skip silently.
    if (!('im:rating' in candidate) && 'im:name' in candidate) return;
    const checked = reviewEntrySchema.safeParse(candidate);
    if (!checked.success) {
      throw sourceChangedAt(checked.error.issues, 'app-store feed', Array.isArray(entry) ? `feed.entry[${index}]` : 'feed.entry');
    }
    mentions.push(mapReview(checked.data, appReviewsUrl));
  });

  const nextCursor = mentions.length > 0 && location.page < MAX_PAGE ? String(location.page + 1) : null;
  return { mentions, nextCursor };
}

function mapReview(entry: ReviewEntry, appReviewsUrl: string | null): MentionDraft {
  const authorUrl = entry.author?.uri?.label || null;
  return {
    source: 'app-store',
    externalId: entry.id.label,
    url: findLink(entry.link, 'alternate') ?? appReviewsUrl,
    author: {
      name: entry.author?.name.label || null,
      id: authorUrl ? (/\/id(\d+)/.exec(authorUrl)?.[1] ?? null) : null,
      url: authorUrl,
    },
    title: entry.title?.label || null,
    text: entry.content.label,
    rating: Number(entry['im:rating'].label),
    publishedAt: toIsoDate(entry.updated?.label),
    lang: null,
    metrics: readMetrics(entry),
    reply: null,
    parentExternalId: null,
  };
}

function readMetrics(entry: ReviewEntry): MentionMetrics {
  const metrics: MentionMetrics = {};
  const votes = toCount(entry['im:voteCount']?.label);
  const likes = toCount(entry['im:voteSum']?.label);
  if (votes !== null) metrics.votes = votes;
  if (likes !== null) metrics.likes = likes;
  return metrics;
}

/** Current page from the cursor it was fetched with, else the URL, else the feed's `next` link. */
function locateFeed(raw: RawPage, links: FeedLinks): FeedLocation {
  const fromUrl = FEED_PATH.exec(raw.url);
  const linkMatches = toArray(links)
    .map((l) => ({ rel: l.attributes.rel, match: FEED_PATH.exec(l.attributes.href) }))
    .filter((l) => l.match !== null);
  const any = fromUrl ?? linkMatches[0]?.match ?? null;
  const nextPage = Number(linkMatches.find((l) => l.rel === 'next')?.match?.[2]);

  let page = 1;
  if (raw.cursor !== null && /^\d+$/.test(raw.cursor)) page = Number(raw.cursor);
  else if (fromUrl?.[2]) page = Number(fromUrl[2]);
  else if (Number.isInteger(nextPage) && nextPage > 1) page = nextPage - 1;

  return { country: any?.[1]?.toLowerCase() ?? null, appId: any?.[3] ?? null, page };
}

function findLink(links: FeedLinks, rel: string): string | null {
  return toArray(links).find((l) => l.attributes.rel === rel)?.attributes.href ?? null;
}

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function toCount(value: string | undefined): number | null {
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return null;
  return Number(value);
}

