import type { FetchDeps, RawPage } from '../types.ts';
import { MAX_PAGE } from './schema.ts';
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

export async function fetchReviewsPage(
  target: AppStoreTarget,
  cursor: string | null,
  deps: FetchDeps,
): Promise<RawPage> {
  const url = buildReviewsUrl(target, readPageCursor(cursor));
  const res = await deps.http.get(url, {
    headers: { accept: 'application/json' },
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor };
}
