import { expect } from 'vitest';
import { createHttpClient } from '../../crawlers/http.ts';
import { runCrawl, type CrawlDeps, type CrawlSummary, type CrawlTarget } from '../../scheduler/run-crawl.ts';
import { upsertBrand } from '../../store/brands.ts';
import type { Store } from '../../store/connect.ts';
import { upsertTarget } from '../../store/targets.ts';
import type { FixtureServer } from './fixture-server.ts';
import { testCrawlDeps } from './crawl-deps.ts';
import { createTestStore } from './test-store.ts';

export interface ResumableCrawlCase {
  source: string;
  /** The target's params; point the crawler's base URL at `server.url`. */
  params: (server: FixtureServer) => unknown;
  /** `credentials.<source>` of the config, when the crawler takes them. */
  credentials?: unknown;
  /** Brand keywords, for sources that keep only matching items. */
  keywords?: string[];
  /**
   * Starts the local replay of the recordings. It must call `onPage()` when a request for a page of
   * mentions arrives, before replying (not for side requests such as a token or a key page).
   */
  serve(onPage: () => void): Promise<FixtureServer>;
  now?: () => Date;
}

/** Back to a freshly migrated store without loading a new one: every row a crawl writes, children first. */
async function emptyStore(store: Store): Promise<void> {
  for (const table of ['alerts', 'outbox', 'ticket_history', 'ticket_links', 'tickets', 'mention_brands', 'mentions', 'crawl_runs', 'target_brands', 'targets'] as const) {
    await store.db.deleteFrom(table).execute();
  }
}

export interface ResumableCrawlReport {
  pages: number;
  mentions: number;
  clean: CrawlSummary;
}

/**
 * The crash-safety contract every crawler must keep: a crawl killed at any page and run again ends with
 * exactly the mentions of a clean crawl (same ids, same content), none twice, and a third run adds nothing.
 */
export async function expectResumableCrawl(c: ResumableCrawlCase): Promise<ResumableCrawlReport> {
  let pageRequests = 0;
  let abortAtPage: number | null = null;
  let controller = new AbortController();
  const server = await c.serve(() => {
    pageRequests += 1;
    if (pageRequests === abortAtPage) controller.abort(new Error(`killed at page ${abortAtPage}`));
  });
  const http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
  const stores: Store[] = [];
  try {
    const crawl = async (store: Store, deps: Partial<CrawlDeps> = {}) => {
      const brand = await upsertBrand(store.db, { name: 'Acme', keywords: c.keywords ?? ['acme'] }, new Date());
      const target: CrawlTarget = { id: `conformance-${c.source}`, source: c.source, params: c.params(server), brands: [brand] };
      await upsertTarget(store.db, { id: target.id, source: c.source, brandIds: [brand.id], params: target.params as Record<string, unknown>, schedule: '0 * * * *', enabled: true }, new Date());
      pageRequests = 0;
      return runCrawl(
        testCrawlDeps(store.db, {
          httpFor: () => http,
          now: c.now ?? (() => new Date()),
          credentials: c.credentials === undefined ? {} : { [c.source]: c.credentials },
          ...deps,
        }),
        target,
      );
    };
    const snapshot = async (store: Store) => {
      const rows = await store.db.selectFrom('mentions').select(['source', 'external_id', 'content_hash']).orderBy('external_id').execute();
      return rows.map((r) => `${r.source}|${r.external_id}|${r.content_hash}`);
    };

    const cleanStore = await createTestStore();
    stores.push(cleanStore);
    const clean = await crawl(cleanStore);
    expect(clean, 'the clean crawl').toMatchObject({ status: 'ok' });
    const expected = await snapshot(cleanStore);
    expect(expected.length, 'the clean crawl stores mentions').toBeGreaterThan(0);
    const pages = pageRequests;
    expect(pages, 'the clean crawl fetches pages through onPage').toBeGreaterThan(0);

    const store = await createTestStore();
    stores.push(store);
    for (let k = 1; k <= pages; k++) {
      await emptyStore(store);
      controller = new AbortController();
      abortAtPage = k;
      const killed = await crawl(store, { signal: controller.signal });
      expect(killed.status, `the crawl killed at page ${k}`).toBe('failed');
      abortAtPage = null;
      const resumed = await crawl(store);
      expect(resumed.status, `the run after the kill at page ${k}`).toBe('ok');
      expect(await snapshot(store), `mentions after a kill at page ${k} and a re-run`).toEqual(expected);
      const again = await crawl(store);
      expect(again, `a third run after the kill at page ${k}`).toMatchObject({ status: 'ok', new: 0, updated: 0, tickets: 0 });
    }
    return { pages, mentions: expected.length, clean };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await http.close();
    await server.close();
  }
}
