import { BlockedError, SourceChangedError, SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import { redactUrl } from '../http.ts';
import type { HttpResponse } from '../http.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import { extractReviewApiConfig, isKeyRejection, readApiError, toApiError } from './parse.ts';
import type { ReviewApiConfig } from './parse.ts';
import { PAGE_SIZE } from './schema.ts';
import type { TwoGisTarget } from './schema.ts';
import { tryParseJson } from '../payload.ts';

/** What the web app asks for; `sort_by=date_created` keeps dates monotonic, which the watermark stop needs. */
const REVIEW_FIELDS =
  'meta.providers,meta.branch_rating,meta.branch_reviews_count,meta.total_count,reviews.hiding_reason,reviews.is_verified';

/** Where firm pages of the target's site are read: `baseUrl`, default `https://{domain}`. */
export function firmPageUrl(target: TwoGisTarget): string {
  const root = (target.baseUrl ?? `https://${target.domain}`).replace(/\/+$/, '');
  return `${root}/${target.city ? `${target.city}/` : ''}firm/${target.branchId}`;
}

/** The public site of the target (for links shown to users), never a test or mirror host. */
export function publicSite(target: TwoGisTarget): string {
  return `https://${target.domain}${target.city ? `/${target.city}` : ''}`;
}

/**
 * The reviews URL for a page, without the key. The cursor is 2GIS's `meta.next_link`: its query (offset_date
 * and the rest) is laid over the defaults, on the API root of the current config.
 */
export function buildReviewsUrl(target: TwoGisTarget, apiUrl: string, cursor: string | null): URL {
  const url = new URL(`branches/${target.branchId}/reviews`, target.reviewsApiUrl ?? apiUrl);
  const params = url.searchParams;
  params.set('limit', String(PAGE_SIZE));
  params.set('is_advertiser', 'false');
  params.set('fields', REVIEW_FIELDS);
  params.set('without_my_first_review', 'false');
  params.set('rated', 'true');
  params.set('sort_by', 'date_created');
  params.set('locale', target.locale);
  if (cursor !== null) {
    let next: URL;
    try {
      next = new URL(cursor);
    } catch {
      throw new RangeError(`2gis cursor must be the meta.next_link URL of a page, got "${cursor.slice(0, 80)}"`);
    }
    for (const [name, value] of next.searchParams) if (name !== 'key') params.set(name, value);
  }
  return url;
}

function cacheKeyOf(target: TwoGisTarget): string {
  // One key serves every branch of a site: cached per firm-page host, not per branch.
  return `review-api:${target.baseUrl ?? target.domain}`;
}

/** The review key and API root: cached per site, read from a firm page when absent or stale. */
async function readReviewApi(target: TwoGisTarget, deps: FetchDeps): Promise<{ config: ReviewApiConfig; cached: boolean }> {
  const cached = deps.cache.get(cacheKeyOf(target)) as ReviewApiConfig | undefined;
  if (cached) return { config: cached, cached: true };
  const url = firmPageUrl(target);
  let res: HttpResponse;
  try {
    res = await deps.http.get(url, {
      headers: { accept: 'text/html' },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (err) {
    if (err instanceof SourceUnavailableError && err.status === 404) {
      throw new TargetUnusableError(`2GIS has no firm page for branch ${target.branchId} (HTTP 404 at ${redactUrl(url)}): check branchId`);
    }
    throw err;
  }
  const config = extractReviewApiConfig(res.body);
  deps.cache.set(cacheKeyOf(target), config);
  return { config, cached: false };
}

type ReviewsOutcome = { res: HttpResponse } | { rejected: string } | { notFound: true };

async function requestReviews(url: URL, target: TwoGisTarget, key: string, deps: FetchDeps): Promise<ReviewsOutcome> {
  const withKey = new URL(url);
  withKey.searchParams.set('key', key);
  let res: HttpResponse;
  try {
    res = await deps.http.get(withKey.href, {
      headers: { accept: 'application/json', referer: `https://${target.domain}/` },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (err) {
    // http.ts turns a 403 into BlockedError: for this API that is how a refused key is expected to look.
    if (err instanceof BlockedError) return { rejected: err.message };
    if (err instanceof SourceUnavailableError && err.status === 401) return { rejected: err.message };
    if (err instanceof SourceUnavailableError && err.status === 404) return { notFound: true };
    if (err instanceof SourceUnavailableError && err.status === 400) {
      throw new SourceChangedError(`2GIS reviews API refuses the request the crawler builds (HTTP 400 at ${redactUrl(withKey.href)})`);
    }
    throw err;
  }
  const apiError = readApiError(tryParseJson(res.body));
  if (apiError && isKeyRejection(apiError.code)) return { rejected: `meta.code ${apiError.code} (${apiError.message})` };
  if (apiError) throw toApiError(apiError);
  return { res };
}

/**
 * One page of a branch's reviews. The public key comes from the firm page's web-app config, cached across
 * runs; when the API refuses a cached key, the firm page is read once more and the page asked again.
 */
export async function fetchReviewsPage(target: TwoGisTarget, cursor: string | null, deps: FetchDeps): Promise<RawPage> {
  const first = await readReviewApi(target, deps);
  let outcome = await requestReviews(buildReviewsUrl(target, first.config.apiUrl, cursor), target, first.config.key, deps);
  // A key read a moment ago is not read again: the firm page would name the same one.
  if ('rejected' in outcome && first.cached) {
    deps.cache.delete(cacheKeyOf(target));
    const { config } = await readReviewApi(target, deps);
    if (config.key === first.config.key) {
      throw new BlockedError(`2GIS refuses the review key its firm page still names: ${outcome.rejected}`);
    }
    outcome = await requestReviews(buildReviewsUrl(target, config.apiUrl, cursor), target, config.key, deps);
  }
  if ('rejected' in outcome) throw new BlockedError(`2GIS refuses the review key read from the firm page just now: ${outcome.rejected}`);
  if ('notFound' in outcome) {
    // A 404 from the reviews API says nothing of the branch id by itself: the firm page does. Read it now if it
    // came from the cache; a missing page throws "check branchId" there.
    if (first.cached) {
      deps.cache.delete(cacheKeyOf(target));
      await readReviewApi(target, deps);
    }
    throw new SourceChangedError(
      `2GIS reviews API answered HTTP 404 for branch ${target.branchId}, whose firm page exists (${redactUrl(firmPageUrl(target))}): ` +
        'the branch id is right; the reviews API has moved or no longer serves this branch',
    );
  }
  const { res } = outcome;
  return {
    // Without the key; the fragment tells parse the public site for review links (it is never sent).
    url: `${redactUrl(res.url)}#site=${publicSite(target)}`,
    status: res.status,
    contentType: res.contentType,
    body: res.body,
    cursor,
  };
}

