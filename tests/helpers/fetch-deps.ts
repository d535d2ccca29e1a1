import type { HttpClient } from '../../crawlers/http.ts';
import type { FetchDeps } from '../../crawlers/types.ts';

/** What runCrawl hands a crawler's fetchPage, for tests that call fetchPage directly. */
export function fetchDeps<C = unknown>(http: HttpClient, extra: Partial<FetchDeps<C>> = {}): FetchDeps<C> {
  return { http, now: () => new Date('2026-11-22T10:00:00Z'), since: null, credentials: undefined, cache: new Map(), ...extra };
}
