import { SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import { hasNoReviews } from './parse.ts';
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

/** The app's store page in the target's country: the page google-play-scraper's `app()` reads. */
export function buildDetailsUrl(target: GooglePlayTarget, lang: string): string {
  const root = target.baseUrl.replace(/\/+$/, '');
  return `${root}/store/apps/details?id=${encodeURIComponent(target.appId)}&hl=${encodeURIComponent(lang)}&gl=${encodeURIComponent(target.country)}`;
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
  const raw: RawPage = {
    url: res.url,
    status: res.status,
    contentType: res.contentType,
    body: res.body,
    cursor: encodeStreamCursor(stream),
    requestBody: body,
  };
  // An app without reviews and a package Play does not know may answer alike: on the first page, ask its store page.
  if (cursor === null && hasNoReviews(raw)) await assertAppListed(target, lang, deps);
  return raw;
}

/**
 * Throws TargetUnusableError when Play answers 404 for the app's store page in the target's country; any other
 * answer says nothing either way (Play has been seen to show a page for an app it does not offer there) and is let be.
 */
async function assertAppListed(target: GooglePlayTarget, lang: string, deps: FetchDeps): Promise<void> {
  const key = `listed ${target.country} ${target.appId}`;
  if (deps.cache.get(key) === true) return;
  const url = buildDetailsUrl(target, lang);
  try {
    await deps.http.get(url, { headers: { accept: 'text/html' }, ...(deps.signal ? { signal: deps.signal } : {}) });
  } catch (err) {
    if (err instanceof SourceUnavailableError && err.status === 404) {
      throw new TargetUnusableError(
        `Google Play has no store page for ${target.appId} in country "${target.country}" (HTTP 404 at ${url}) and no reviews of it: ` +
          'check targets[].params.appId (the id= of the app\'s Play Store URL) and targets[].params.country; ' +
          'Play answers 404 for a package it does not know and for an app it does not offer in that country',
      );
    }
    throw err;
  }
  deps.cache.set(key, true);
}
