import { SourceUnavailableError, TargetUnusableError, sourceChangedAt } from '../errors.ts';
import type { HttpResponse } from '../http.ts';
import { tryParseJson } from '../payload.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import { lookupSchema, MAX_PAGE, reviewsPayloadSchema } from './schema.ts';
import type { AppStoreTarget } from './schema.ts';

export function buildReviewsUrl(target: AppStoreTarget, page: number): string {
  const root = target.baseUrl.replace(/\/+$/, '');
  return `${root}/${target.country}/rss/customerreviews/page=${page}/id=${target.appId}/sortby=mostrecent/json`;
}

/** The page a cursor names: null is the first page. */
export function readPageCursor(cursor: string | null): number {
  if (cursor === null) return 1;
  const page = Number(cursor);
  if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE) {
    throw new RangeError(`app-store cursor must be a page number 1..${MAX_PAGE}, got "${cursor}"`);
  }
  return page;
}

/** The iTunes lookup of the app in the target's storefront (what app-store-scraper's `app()` asks). */
export function buildLookupUrl(target: AppStoreTarget): string {
  const root = target.baseUrl.replace(/\/+$/, '');
  return `${root}/lookup?id=${target.appId}&country=${target.country}&entity=software`;
}

export async function fetchReviewsPage(
  target: AppStoreTarget,
  cursor: string | null,
  deps: FetchDeps,
): Promise<RawPage> {
  const page = readPageCursor(cursor);
  const url = buildReviewsUrl(target, page);
  let res: HttpResponse;
  try {
    res = await deps.http.get(url, {
      headers: { accept: 'application/json' },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (err) {
    // How the feed answers an id the storefront does not have is not known; if it refuses, the lookup tells why.
    if (page === 1 && err instanceof SourceUnavailableError && (err.status === 400 || err.status === 404)) {
      await assertAppInStorefront(target, deps);
    }
    throw err;
  }
  // A feed without reviews is an app nobody reviewed there yet, or an id the storefront does not have: ask which.
  if (page === 1 && hasNoReviews(res.body)) await assertAppInStorefront(target, deps);
  return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor };
}

/** A readable feed whose entries hold no review; anything unreadable is left to parse to report. */
function hasNoReviews(body: string): boolean {
  const payload = reviewsPayloadSchema.safeParse(tryParseJson(body));
  if (!payload.success) return false;
  const { entry } = payload.data.feed;
  const entries = entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
  return !entries.some((candidate) => 'im:rating' in candidate);
}

/** Throws TargetUnusableError when the storefront has no app under the target's id; a found app is cached. */
async function assertAppInStorefront(target: AppStoreTarget, deps: FetchDeps): Promise<void> {
  const key = `listed ${target.country} ${target.appId}`;
  if (deps.cache.get(key) === true) return;
  const url = buildLookupUrl(target);
  const res = await deps.http.get(url, {
    headers: { accept: 'application/json' },
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const lookup = lookupSchema.safeParse(tryParseJson(res.body));
  if (!lookup.success) throw sourceChangedAt(lookup.error.issues, `app-store lookup ${url}`);
  if (!lookup.data.results.some((app) => String(app.trackId) === target.appId)) {
    throw new TargetUnusableError(
      `the App Store has no app with id ${target.appId} in its "${target.country}" storefront (the lookup finds none): ` +
        'check targets[].params.appId (the digits after "id" in the app\'s URL) and targets[].params.country',
    );
  }
  deps.cache.set(key, true);
}
