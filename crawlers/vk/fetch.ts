import { MissingCredentialsError } from '../errors.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import { readApiError, toCrawlerError, TOO_MANY_REQUESTS } from './api-error.ts';
import { readCursor, writeCursor } from './cursor.ts';
import { AUTHOR_FIELDS, COMMENTS_PAGE_SIZE, CREDENTIALS_HINT, SEARCH_PAGE_SIZE, THREAD_ITEMS } from './schema.ts';
import type { SearchCursor, VkCredentials, VkCursor, VkTarget } from './schema.ts';
import { tryParseJson } from '../payload.ts';

const DAY_S = 24 * 60 * 60;
/** Asks after a "too many requests per second" answer; each waits for the host's next slot. */
const RATE_RETRIES = 2;

type Params = Record<string, string | number | undefined>;

export interface VkRequest {
  method: 'newsfeed.search' | 'wall.get' | 'wall.getComments';
  params: Params;
}

/** `{baseUrl}/method/{method}?…&v=…`; the token is not in it (it goes in the Authorization header). */
export function buildMethodUrl(target: VkTarget, request: VkRequest): string {
  const url = new URL(`${target.baseUrl.replace(/\/+$/, '')}/method/${request.method}`);
  for (const [name, value] of Object.entries(request.params)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  url.searchParams.set('v', target.apiVersion);
  return url.href;
}

/** A crawl starts with the search: from the stored history's end, or `initialDays` back on a first crawl. */
export function startCursor(target: VkTarget, deps: Pick<FetchDeps, 'now' | 'since'>): SearchCursor {
  const since = deps.since
    ? Math.floor(deps.since.getTime() / 1000)
    : Math.floor(deps.now().getTime() / 1000) - target.initialDays * DAY_S;
  return { stream: 'search', since, communities: target.communities };
}

export function buildRequest(target: VkTarget, cursor: VkCursor): VkRequest {
  switch (cursor.stream) {
    case 'search':
      return {
        method: 'newsfeed.search',
        params: {
          q: target.query,
          extended: 1,
          count: SEARCH_PAGE_SIZE,
          start_time: cursor.since,
          end_time: cursor.until,
          start_from: cursor.from,
          fields: AUTHOR_FIELDS,
        },
      };
    case 'wall': {
      const community = cursor.communities[0]!;
      const byId = /^\d+$/.test(community);
      return {
        method: 'wall.get',
        params: {
          owner_id: byId ? `-${community}` : undefined,
          domain: byId ? undefined : community,
          count: target.commentPosts,
          extended: 1,
          fields: AUTHOR_FIELDS,
        },
      };
    }
    case 'comments':
      return {
        method: 'wall.getComments',
        params: {
          owner_id: cursor.owner,
          post_id: cursor.posts[0],
          need_likes: 1,
          extended: 1,
          fields: AUTHOR_FIELDS,
          sort: 'desc',
          count: COMMENTS_PAGE_SIZE,
          offset: cursor.offset,
          // VK cuts comment texts at 90 characters unless told not to.
          preview_length: 0,
          thread_items_count: THREAD_ITEMS,
        },
      };
  }
}

/**
 * One VK API call for the cursor. VK answers errors with HTTP 200 and `{ error }`: they are thrown here as the
 * crawler error they mean, after asking again (on the host's next slot) when VK only said "too many per second".
 */
export async function fetchVkPage(target: VkTarget, cursor: string | null, deps: FetchDeps<VkCredentials>): Promise<RawPage> {
  const token = deps.credentials?.accessToken;
  if (!token) throw new MissingCredentialsError(CREDENTIALS_HINT);
  const state = cursor === null ? startCursor(target, deps) : readCursor(cursor);
  const request = buildRequest(target, state);
  const url = buildMethodUrl(target, request);
  for (let attempt = 0; ; attempt++) {
    // The Authorization header keeps the token out of URLs, logs and recordings altogether.
    const res = await deps.http.get(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    const error = readApiError(tryParseJson(res.body));
    if (error?.code === TOO_MANY_REQUESTS && attempt < RATE_RETRIES) continue;
    if (error) throw toCrawlerError(error, request.method, token);
    return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor: writeCursor(state) };
  }
}

