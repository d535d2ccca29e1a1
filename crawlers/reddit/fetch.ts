import {
  BlockedError,
  MissingCredentialsError,
  SourceChangedError,
  SourceUnavailableError,
  TargetUnusableError,
  sourceChangedAt,
} from '../errors.ts';
import { detectBlockPage } from '../block-page.ts';
import { redactUrl } from '../http.ts';
import type { HttpResponse } from '../http.ts';
import { tryParseJson } from '../payload.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import { refusalSchema, tokenErrorSchema, tokenResponseSchema } from './schema.ts';
import type { RedditCredentials, RedditTarget } from './schema.ts';

/** Reddit's page size ceiling for listings. */
const PAGE_SIZE = 100;

const FEED_ACCEPT = 'application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.5';
const FULLNAME = /^t[1-6]_[a-z0-9]+$/i;

interface CachedToken {
  accessToken: string;
  /** Epoch ms after which the token is fetched again (a little before Reddit expires it). */
  renewAt: number;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The `after` fullname a cursor carries; null is the first page. */
export function readAfterCursor(cursor: string | null): string | null {
  if (cursor === null) return null;
  if (!FULLNAME.test(cursor)) throw new RangeError(`reddit cursor must be a fullname like "t3_abc123", got "${cursor}"`);
  return cursor;
}

/** The OAuth listing URL: the newest posts matching the query, or the newest comments of a subreddit. */
export function buildListingUrl(target: RedditTarget, after: string | null): string {
  const root = trimSlash(target.baseUrl);
  const params = new URLSearchParams();
  let path: string;
  if (target.listing === 'comments') {
    path = `/r/${target.subreddit}/comments`;
  } else {
    path = target.subreddit ? `/r/${target.subreddit}/search` : '/search';
    params.set('q', target.query ?? '');
    params.set('sort', 'new');
    params.set('type', 'link');
    if (target.subreddit) params.set('restrict_sr', '1');
  }
  params.set('limit', String(PAGE_SIZE));
  // Without raw_json Reddit HTML-escapes "&", "<" and ">" in every text field.
  params.set('raw_json', '1');
  if (after) params.set('after', after);
  return `${root}${path}?${params}`;
}

/** The public feed of the same listing, read without credentials. */
export function buildFeedUrl(target: RedditTarget, after: string | null): string {
  const root = trimSlash(target.rssBaseUrl);
  const params = new URLSearchParams();
  let path: string;
  if (target.listing === 'comments') {
    path = `/r/${target.subreddit}/comments.rss`;
  } else {
    path = target.subreddit ? `/r/${target.subreddit}/search.rss` : '/search.rss';
    params.set('q', target.query ?? '');
    params.set('sort', 'new');
    if (target.subreddit) params.set('restrict_sr', '1');
  }
  params.set('limit', String(PAGE_SIZE));
  if (after) params.set('after', after);
  return `${root}${path}?${params}`;
}

/**
 * One page of the target's listing: through OAuth when `credentials.reddit` is set, else the public Atom feed
 * (a degraded fallback: one page per crawl, and Reddit blocks many unauthenticated clients).
 */
export async function fetchRedditPage(
  target: RedditTarget,
  cursor: string | null,
  deps: FetchDeps<RedditCredentials>,
): Promise<RawPage> {
  const after = readAfterCursor(cursor);
  const credentials = deps.credentials;
  if (!credentials) {
    const res = await getListingPage(target, buildFeedUrl(target, after), { accept: FEED_ACCEPT }, deps);
    return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor };
  }
  const url = buildListingUrl(target, after);
  const headersWith = (token: string) => ({
    accept: 'application/json',
    authorization: `bearer ${token}`,
    ...(credentials.userAgent ? { 'user-agent': credentials.userAgent } : {}),
  });
  let res: HttpResponse;
  try {
    res = await getListingPage(target, url, headersWith(await getAccessToken(target, credentials, deps)), deps);
  } catch (err) {
    if (!hasStatus(err, 401)) throw err;
    // Revoked or expired early: one fresh token, one retry.
    deps.cache.delete(tokenCacheKey(target, credentials));
    res = await getListingPage(target, url, headersWith(await getAccessToken(target, credentials, deps)), deps);
  }
  return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor };
}

async function getListingPage(target: RedditTarget, url: string, headers: Record<string, string>, deps: FetchDeps<RedditCredentials>): Promise<HttpResponse> {
  const res = await deps.http.get(url, {
    headers,
    // A refused subreddit comes as 403 or 404 with JSON naming why: `{"reason": "private", "error": 403, ...}`.
    acceptStatuses: [403, 404],
    rateLimitWaitMs: readRateLimitReset,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  if (res.status === 403 || res.status === 404) throw explainRefusal(target, res);
  const moved = explainRedirect(target, url, res.url);
  if (moved) throw moved;
  return res;
}

/** Reddit's X-Ratelimit-Reset: "approximate number of seconds to end of period" (its API rules). */
function readRateLimitReset(headers: Record<string, string>): number | null {
  const reset = headers['x-ratelimit-reset']?.trim();
  return reset !== undefined && /^\d+(?:\.\d+)?$/.test(reset) ? Math.ceil(Number(reset)) * 1000 : null;
}

const SUBREDDIT_FIELD = 'targets[].params.subreddit';

/**
 * What a 403 or 404 of a listing means. Reddit names the reason of a refused subreddit in the JSON body; without
 * one, a 404 is a subreddit it does not know and a 403 is a refusal of the client (as http.ts treats any 403).
 */
function explainRefusal(target: RedditTarget, res: HttpResponse): Error {
  const where = redactUrl(res.url);
  const refusal = refusalSchema.safeParse(tryParseJson(res.body));
  const reason = refusal.success ? refusal.data.reason : undefined;
  const sub = target.subreddit ? `r/${target.subreddit}` : 'the subreddit';
  const said = `HTTP ${res.status}, reason "${reason}"`;
  switch (reason) {
    case 'private':
      return new TargetUnusableError(
        `${sub} is private (${said}): only its approved members can read it, and earshot reads Reddit as an app without an account; remove or change ${SUBREDDIT_FIELD}`,
      );
    case 'quarantined':
    case 'gated':
      return new TargetUnusableError(
        `${sub} is ${reason} (${said}): Reddit shows it only to a logged-in account that has opted in to it, and earshot reads Reddit as an app without an account; remove or change ${SUBREDDIT_FIELD}`,
      );
    case 'banned':
      return new TargetUnusableError(`${sub} has been banned by Reddit (${said}): nothing of it can be read any more; remove or change ${SUBREDDIT_FIELD}`);
  }
  const also = reason === undefined ? '' : ` (reason "${reason}")`;
  if (res.status === 404 && target.subreddit) {
    return new TargetUnusableError(`Reddit has no subreddit ${sub} (HTTP 404${also}): it does not exist or was banned; check ${SUBREDDIT_FIELD}`);
  }
  if (res.status === 403) return new BlockedError(`${where}: HTTP 403${also}`);
  return new SourceUnavailableError(`${where}: HTTP ${res.status}${also}`, res.status);
}

/**
 * Reddit answers some listings with a redirect instead of an error: a subreddit it does not know goes to its
 * subreddit search, a search for a bare URL goes to the page that submits that link.
 */
function explainRedirect(target: RedditTarget, asked: string, got: string): Error | null {
  const askedPath = new URL(asked).pathname;
  const gotPath = new URL(got).pathname;
  if (gotPath === askedPath) return null;
  if (target.subreddit && /^\/subreddits\/search/.test(gotPath)) {
    return new TargetUnusableError(
      `Reddit has no subreddit r/${target.subreddit}: it sent the listing on to its subreddit search (${redactUrl(got)}); check ${SUBREDDIT_FIELD}`,
    );
  }
  if (target.listing === 'search' && /^\/submit/.test(gotPath)) {
    return new TargetUnusableError(
      `Reddit took the search query for a link to submit and sent the search on to ${redactUrl(got)}: to search for a URL, write it as url:"https://…" in targets[].params.query`,
    );
  }
  return null;
}

function tokenCacheKey(target: RedditTarget, credentials: RedditCredentials): string {
  return `token ${trimSlash(target.authUrl)} ${credentials.clientId}`;
}

/** An app-only token from the client-credentials grant, kept in `deps.cache` until shortly before it expires. */
async function getAccessToken(target: RedditTarget, credentials: RedditCredentials, deps: FetchDeps<RedditCredentials>): Promise<string> {
  const key = tokenCacheKey(target, credentials);
  const cached = deps.cache.get(key) as CachedToken | undefined;
  const now = deps.now().getTime();
  if (cached && now < cached.renewAt) return cached.accessToken;
  deps.cache.delete(key);

  const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`, 'utf8').toString('base64');
  let body: string;
  try {
    const res = await deps.http.request(`${trimSlash(target.authUrl)}/api/v1/access_token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(credentials.userAgent ? { 'user-agent': credentials.userAgent } : {}),
      },
      body: 'grant_type=client_credentials',
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    body = res.body;
  } catch (err) {
    if (hasStatus(err, 401)) throw rejectedCredentials('HTTP 401');
    throw err;
  }

  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const blockReason = detectBlockPage(body);
    if (blockReason !== null) throw new BlockedError(`the Reddit token endpoint served a ${blockReason}`);
    throw new SourceChangedError('the Reddit token endpoint did not answer JSON', 'access_token');
  }
  const refused = tokenErrorSchema.safeParse(json);
  if (refused.success) {
    // Only a short error code is echoed: it names the problem and cannot carry the secret.
    const code = /^[a-z_]{1,40}$|^\d{3}$/.test(String(refused.data.error)) ? String(refused.data.error) : 'error';
    throw rejectedCredentials(code);
  }
  const token = tokenResponseSchema.safeParse(json);
  if (!token.success) throw sourceChangedAt(token.error.issues, 'the Reddit token response');
  const expiresInSeconds = token.data.expires_in;
  // Renew a minute early (half-way for very short tokens) so a page never goes out with a dying token.
  const marginSeconds = Math.min(60, expiresInSeconds / 2);
  deps.cache.set(key, { accessToken: token.data.access_token, renewAt: now + (expiresInSeconds - marginSeconds) * 1000 } satisfies CachedToken);
  return token.data.access_token;
}

function rejectedCredentials(reason: string): MissingCredentialsError {
  return new MissingCredentialsError(
    `Reddit refused credentials.reddit (${reason}): check clientId and clientSecret of a Reddit "script" or "web" app`,
  );
}

function hasStatus(err: unknown, status: number): boolean {
  return err instanceof SourceUnavailableError && err.status === status;
}
