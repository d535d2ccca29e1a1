import type { FetchDeps, RawPage } from '../types.ts';
import { decodeStreamCursor, encodeStreamCursor, PAGE_SIZE, REVIEWS_RPC, SORT_NEWEST } from './schema.ts';
import type { GooglePlayTarget, StreamCursor } from './schema.ts';

/**
 * The Play web client's batchexecute endpoint. `rpcids` names another rpc than the body's UsvDTd: the server
 * goes by the body, and this is the query the maintained scrapers send and were last seen working with (2026).
 */
export function buildReviewsUrl(target: GooglePlayTarget, lang: string): string {
  const root = target.baseUrl.replace(/\/+$/, '');
  const query = [
    'rpcids=qnKhOb',
    'f.sid=-697906427155521722',
    'bl=boq_playuiserver_20190903.08_p0',
    `hl=${encodeURIComponent(lang)}`,
    `gl=${encodeURIComponent(target.country)}`,
    'authuser',
    'soc-app=121',
    'soc-platform=1',
    'soc-device=1',
    '_reqid=1065213',
  ].join('&');
  return `${root}/_/PlayStoreUi/data/batchexecute?${query}`;
}

/** The form body: one UsvDTd call for `appId`, newest first, a full page, from `token` (null: the first page). */
export function buildReviewsBody(appId: string, token: string | null): string {
  const request = [null, null, [2, SORT_NEWEST, [PAGE_SIZE, null, token], null, []], [appId, 7]];
  const envelope = [[[REVIEWS_RPC, JSON.stringify(request), null, 'generic']]];
  return `f.req=${encodeURIComponent(JSON.stringify(envelope))}`;
}

/** The stream a cursor names; null is the first page of the target's first language. */
export function readStreamCursor(target: GooglePlayTarget, cursor: string | null): StreamCursor {
  return cursor === null ? { l: target.languages, i: 0, t: null } : decodeStreamCursor(cursor);
}

export async function fetchReviewsPage(
  target: GooglePlayTarget,
  cursor: string | null,
  deps: FetchDeps,
): Promise<RawPage> {
  const stream = readStreamCursor(target, cursor);
  const lang = stream.l[stream.i] as string;
  const body = buildReviewsBody(target.appId, stream.t);
  const res = await deps.http.request(buildReviewsUrl(target, lang), {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  // The effective cursor (never null) tells parse the language and the streams after it, even on the first page.
  return {
    url: res.url,
    status: res.status,
    contentType: res.contentType,
    body: res.body,
    cursor: encodeStreamCursor(stream),
    requestBody: body,
  };
}
