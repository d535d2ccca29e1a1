import { detectBlockPage } from '../block-page.ts';
import {
  BlockedError,
  RateLimitedError,
  SourceChangedError,
  SourceUnavailableError,
  TargetUnusableError,
  sourceChangedAt,
} from '../errors.ts';
import type { MentionDetails, MentionDraft, MentionMetrics, MentionReply, ParseContext, ParsedPage, RawPage } from '../types.ts';
import { DOMAINS, reviewSchema, reviewsPageSchema, webAppConfigSchema } from './schema.ts';
import type { Review } from './schema.ts';
import { toIsoDate } from '../payload.ts';

/** What the firm page tells: the public review key of the web app and the reviews API root it calls. */
export interface ReviewApiConfig {
  key: string;
  apiUrl: string;
}

// The web app embeds its config as a JS string literal handed to JSON.parse: `__customcfg = JSON.parse('…')`.
const CUSTOM_CONFIG = /__customcfg\s*=\s*JSON\.parse\(\s*(['"])((?:(?!\1)[^\\]|\\[\s\S])*)\1\s*\)/;

/**
 * Reads the review key and API root from a firm page. Pure. A captcha or block page is a `BlockedError`; a page
 * without the config or without the key is a `SourceChangedError` naming what is missing.
 */
export function extractReviewApiConfig(html: string): ReviewApiConfig {
  const match = CUSTOM_CONFIG.exec(html);
  if (!match) {
    const blocked = detectBlockPage(html);
    if (blocked !== null) throw new BlockedError(`2GIS firm page is a ${blocked}`);
    throw new SourceChangedError('2GIS firm page has no web-app config (__customcfg = JSON.parse(…))', '__customcfg');
  }
  let json: unknown;
  try {
    json = JSON.parse(unescapeJsString(match[2] ?? ''));
  } catch (err) {
    throw new SourceChangedError(`2GIS firm page config is not JSON: ${(err as Error).message}`, '__customcfg');
  }
  const config = webAppConfigSchema.safeParse(json);
  if (!config.success) throw sourceChangedAt(config.error.issues, '2GIS firm page config', '__customcfg');
  // The web app reads branch reviews from the 3.0 root today; 2.0 serves the same fields.
  const apiUrl = config.data.reviewApi3Url ?? config.data.reviewApiUrl;
  if (apiUrl === undefined) {
    throw new SourceChangedError('2GIS firm page config names no reviews API (reviewApi3Url, reviewApiUrl)', '__customcfg.reviewApi3Url');
  }
  return { key: config.data.reviewApiKey, apiUrl: withTrailingSlash(apiUrl) };
}

/** The `meta.code` and message of an error answer of the reviews API (parsed JSON), or null for anything else. */
export function readApiError(json: unknown): { code: number; message: string } | null {
  if (typeof json !== 'object' || json === null || !('meta' in json)) return null;
  const meta = (json as { meta: unknown }).meta;
  if (typeof meta !== 'object' || meta === null) return null;
  const { code, error } = meta as { code?: unknown; error?: unknown };
  if (typeof code !== 'number' || (code >= 200 && code < 300)) return null;
  const detail = typeof error === 'object' && error !== null ? (error as { message?: unknown; type?: unknown }) : {};
  const message = [detail.type, detail.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
  return { code, message: message || 'no error message' };
}

/** 401 and 403 in `meta.code` mean the key is refused (unverified: no public recording shows 2GIS's answer). */
export function isKeyRejection(code: number): boolean {
  return code === 401 || code === 403;
}

/** Parse one reviews page of `public-api.reviews.2gis.com/{2.0|3.0}/branches/{id}/reviews`. Pure. */
export function parseReviews(raw: RawPage, _ctx: ParseContext): ParsedPage {
  let json: unknown;
  try {
    json = JSON.parse(raw.body);
  } catch {
    throw new SourceChangedError(`2GIS reviews: response is not JSON (starts with ${JSON.stringify(raw.body.slice(0, 40))})`);
  }
  const apiError = readApiError(json);
  if (apiError) throw toApiError(apiError);
  const page = reviewsPageSchema.safeParse(json);
  if (!page.success) throw sourceChangedAt(page.error.issues, '2GIS reviews', '');

  const location = locatePage(raw.url);
  const offsetDate = readOffsetDate(raw.cursor);
  const mentions: MentionDraft[] = [];
  page.data.reviews.forEach((candidate, index) => {
    const checked = reviewSchema.safeParse(candidate);
    if (!checked.success) throw sourceChangedAt(checked.error.issues, '2GIS reviews', `reviews[${index}]`);
    // Hidden reviews (moderated by 2GIS) are not shown on the site: nobody can read or answer them there.
    if (checked.data.is_hidden === true) return;
    // The review the page starts from (offset_date = its date) ended the previous page; if 2GIS repeats it,
    // runCrawl would take it for a known review and stop paging.
    if (offsetDate !== null && checked.data.date_created === offsetDate) return;
    mentions.push(mapReview(checked.data, index, location));
  });

  const nextLink = page.data.meta?.next_link;
  const nextCursor = page.data.reviews.length > 0 && nextLink ? toCursor(nextLink, raw.url) : null;
  return { mentions, nextCursor };
}

interface PageLocation {
  branchId: string | null;
  /** The public reviews page of the branch; 2GIS has no page per review. */
  reviewsUrl: string | null;
}

function mapReview(review: Review, index: number, location: PageLocation): MentionDraft {
  const details: MentionDetails = {};
  if (typeof review.is_verified === 'boolean') details.verified = review.is_verified;
  if (location.branchId !== null) details.place = location.branchId;
  return {
    source: '2gis',
    externalId: String(review.id),
    url: location.reviewsUrl,
    author: { name: review.user?.name?.trim() || null },
    title: null,
    text: review.text,
    rating: review.rating,
    publishedAt: readDate(review.date_created, `reviews[${index}].date_created`),
    lang: null,
    metrics: readMetrics(review),
    reply: readReply(review),
    parentExternalId: null,
    details,
  };
}

function readMetrics(review: Review): MentionMetrics {
  const metrics: MentionMetrics = {};
  if (typeof review.likes_count === 'number') metrics.likes = review.likes_count;
  if (typeof review.comments_count === 'number') metrics.comments = review.comments_count;
  return metrics;
}

function readReply(review: Review): MentionReply | null {
  const answer = review.official_answer;
  const text = answer?.text?.trim();
  if (!answer || !text) return null;
  return { text, at: answer.date_created ? toIsoDate(normalizeFraction(answer.date_created)) : null };
}

// fetch adds `#site=https://2gis.kz/almaty` to the page URL: the public site of the target, for review links.
const SITE_FRAGMENT = /^#site=(https:\/\/2gis\.[a-z]{2,3}(?:\/[a-z0-9_-]+)?)$/;
const BRANCH_PATH = /\/branches\/(\d+)\/reviews\/?$/;
const DOMAIN_BY_COUNTRY: Record<string, string> = Object.fromEntries(
  DOMAINS.map((domain) => [domain.slice(domain.lastIndexOf('.') + 1).toUpperCase(), domain]),
);

/** Branch and public page from the request URL; a bare file (file:// URL) has neither. */
function locatePage(pageUrl: string): PageLocation {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return { branchId: null, reviewsUrl: null };
  }
  const branchId = BRANCH_PATH.exec(url.pathname)?.[1] ?? null;
  if (branchId === null) return { branchId: null, reviewsUrl: null };
  // A recording keeps the request URL without the fragment: the locale's country names the site then.
  const country = /^[a-z]{2}_([A-Z]{2})$/.exec(url.searchParams.get('locale') ?? '')?.[1];
  const domain = country ? DOMAIN_BY_COUNTRY[country] : undefined;
  const site = SITE_FRAGMENT.exec(url.hash)?.[1] ?? (domain ? `https://${domain}` : null);
  return { branchId, reviewsUrl: site ? `${site}/firm/${branchId}/tab/reviews` : null };
}

function readOffsetDate(cursor: string | null): string | null {
  if (cursor === null) return null;
  try {
    return new URL(cursor).searchParams.get('offset_date');
  } catch {
    return null;
  }
}

/** `meta.next_link` without the key: cursors show up in logs and errors; fetch adds the current key. */
function toCursor(nextLink: string, base: string): string {
  let url: URL;
  try {
    url = new URL(nextLink, base);
  } catch {
    throw new SourceChangedError(`2GIS reviews: meta.next_link is not a URL (${JSON.stringify(nextLink.slice(0, 80))})`, 'meta.next_link');
  }
  url.searchParams.delete('key');
  url.hash = '';
  return url.href;
}

export function toApiError({ code, message }: { code: number; message: string }): Error {
  const text = `2GIS reviews API answered meta.code ${code} (${message})`;
  if (isKeyRejection(code)) return new BlockedError(`${text}: the review key is refused`);
  if (code === 404) return new TargetUnusableError(`${text}: 2GIS does not know this branch`);
  if (code === 429) return new RateLimitedError(text, 60_000);
  if (code >= 500) return new SourceUnavailableError(text, code);
  return new SourceChangedError(text, 'meta.code');
}

function readDate(value: string, path: string): string {
  const iso = toIsoDate(normalizeFraction(value));
  if (iso === null) throw new SourceChangedError(`2GIS reviews changed at ${path}: not a date (${JSON.stringify(value.slice(0, 40))})`, path);
  return iso;
}

// 2GIS dates carry microseconds (2023-06-08T02:45:05.106444+07:00); ECMAScript dates read milliseconds.
function normalizeFraction(value: string): string {
  return value.trim().replace(/(\.\d{3})\d+/, '$1');
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Undoes the escapes of a JS string literal (the config is one), before JSON.parse reads it. */
function unescapeJsString(literal: string): string {
  return literal.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])/g, (_all, esc: string) => {
    if (esc.startsWith('u{')) return String.fromCodePoint(parseInt(esc.slice(2, -1), 16));
    if (esc.length > 1 && (esc[0] === 'u' || esc[0] === 'x')) return String.fromCharCode(parseInt(esc.slice(1), 16));
    switch (esc) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return '\0';
      case '\n':
      case '\r':
      case '\r\n':
      case '\u2028':
      case '\u2029':
        return '';
      default:
        return esc;
    }
  });
}

