import { ZodError } from 'zod';
import {
  BlockedError,
  MissingCredentialsError,
  RateLimitedError,
  SourceChangedError,
} from '../crawlers/errors.ts';
import type { HttpClient } from '../crawlers/http.ts';
import { findCrawler } from '../crawlers/registry.ts';
import type { Crawler, MentionDraft } from '../crawlers/types.ts';
import type { Logger } from '../log/logger.ts';
import { prepareMentions, storeMentions } from '../pipeline/ingest.ts';
import { createKeywordMatcher, type KeywordMatcher } from '../pipeline/match.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import {
  finishCrawlRun,
  lastRunCompleted,
  recordCrawlProgress,
  startCrawlRun,
  type CrawlCounts,
} from '../store/crawl-runs.ts';
import type { TargetState } from '../store/schema.ts';
import { recordTargetFailure, recordTargetSuccess } from '../store/targets.ts';
import { openTickets, type TicketPolicy } from '../tickets/open.ts';

export interface CrawlTarget {
  id: string;
  source: string;
  params: unknown;
  brand: { id: number; name: string; keywords: readonly string[] };
}

export interface CrawlDeps {
  db: Db;
  /** The polite client for a crawler, spaced by its declared per-host rate. */
  httpFor(crawler: Crawler): HttpClient;
  now: () => Date;
  policy: TicketPolicy;
  log: Logger;
  signal?: AbortSignal;
}

export interface CrawlSummary extends CrawlCounts {
  target: string;
  status: 'ok' | 'failed';
  errorKind?: string;
  error?: string;
  /** Set when the source asked us to slow down: when to try again, rather than at the next cron tick. */
  retryAfterMs?: number;
}

/**
 * The one path of a crawl: fetch a page, parse it, keep the brand's mentions, store them and open
 * tickets in one transaction per page, then the next page. Cron, the CLI and the tests all call this.
 */
export async function runCrawl(deps: CrawlDeps, target: CrawlTarget): Promise<CrawlSummary> {
  const { db, now } = deps;
  const counts: CrawlCounts = { pages: 0, fetched: 0, new: 0, updated: 0, duplicates: 0, unmatched: 0, tickets: 0 };
  const runId = await startCrawlRun(db, target.id, now());
  try {
    const crawler = findCrawler(target.source);
    if (!crawler) throw new SourceChangedError(`unknown source "${target.source}"`);
    const params = crawler.target.parse(target.params);
    // After an interrupted run, page through everything again: the pages it never reached are older
    // than the ids it did store, so stopping at those ids would lose them.
    const mayStopAtSeen = crawler.stopAtSeen && (await lastRunCompleted(db, target.id, runId));
    const matcher = crawler.matchKeywords ? createKeywordMatcher(target.brand.keywords) : null;
    let cursor: string | null = null;
    do {
      const raw = await crawler.fetchPage(params, cursor, { http: deps.httpFor(crawler), signal: deps.signal });
      const page = await crawler.parse(raw, { fetchedAt: now() });
      counts.pages++;
      counts.fetched += page.mentions.length;
      const result = await ingestPage({ db, now, policy: deps.policy }, page.mentions, { brand: target.brand, targetId: target.id, matcher }, async (trx, pageCounts) => {
        counts.new += pageCounts.new;
        counts.updated += pageCounts.updated;
        counts.duplicates += pageCounts.duplicates;
        counts.unmatched += pageCounts.unmatched;
        counts.tickets += pageCounts.tickets;
        await recordCrawlProgress(trx, runId, counts);
      });
      const sawKnownIds = result.duplicates + result.updated > 0;
      cursor = page.nextCursor;
      if (mayStopAtSeen && sawKnownIds) break;
    } while (cursor !== null && counts.pages < crawler.maxPages);

    await finishCrawlRun(db, runId, { status: 'ok' }, now());
    await recordTargetSuccess(db, target.id, now());
    deps.log.info({ target: target.id, ...counts }, 'crawl finished');
    return { target: target.id, status: 'ok', ...counts };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    const failure = classifyFailure(error);
    await finishCrawlRun(db, runId, { status: 'failed', errorKind: error.name, error: error.message }, now());
    await recordTargetFailure(db, target.id, { ...failure, error: `${error.name}: ${error.message}` }, now());
    deps.log.warn({ target: target.id, errorKind: error.name, error: error.message, ...counts }, 'crawl failed');
    const retryAfterMs = error instanceof RateLimitedError ? { retryAfterMs: error.retryAfterMs } : {};
    return { target: target.id, status: 'failed', errorKind: error.name, error: error.message, ...retryAfterMs, ...counts };
  }
}

/** The error class is the policy: what the target's health becomes and whether it counts as an error. */
function classifyFailure(error: Error): { state: TargetState | null; countsAsError: boolean } {
  if (error instanceof RateLimitedError) return { state: 'degraded', countsAsError: false };
  if (error instanceof BlockedError) return { state: 'blocked', countsAsError: true };
  if (error instanceof SourceChangedError || error instanceof MissingCredentialsError) {
    return { state: 'needs_action', countsAsError: true };
  }
  if (error instanceof ZodError) return { state: 'needs_action', countsAsError: true };
  return { state: 'degraded', countsAsError: true };
}

export interface PageCounts {
  new: number;
  updated: number;
  duplicates: number;
  unmatched: number;
  tickets: number;
}

/**
 * One page through the pipeline in one transaction: keep the brand's mentions, store them, open tickets
 * for the actionable ones. `inside` runs in the same transaction (crawl progress is written with the page).
 */
export async function ingestPage(
  deps: { db: Db; now: () => Date; policy: TicketPolicy },
  drafts: readonly MentionDraft[],
  scope: { brand: CrawlTarget['brand']; targetId: string | null; matcher: KeywordMatcher | null },
  inside?: (trx: Db, counts: PageCounts) => Promise<void>,
): Promise<PageCounts> {
  const batch = prepareMentions(drafts, { brandId: scope.brand.id, targetId: scope.targetId, matcher: scope.matcher }, deps.now());
  return inTransaction(deps.db, async (trx) => {
    const stored = await storeMentions(trx, batch);
    const rowsById = new Map(batch.rows.map((row) => [row.external_id, row]));
    const actionable = stored.stored
      .filter((s) => s.actionable)
      .map((s) => ({ id: s.id, row: rowsById.get(s.external_id)! }));
    const tickets = await openTickets(trx, actionable, { brandName: scope.brand.name, policy: deps.policy, now: deps.now() });
    const counts = { new: stored.new, updated: stored.updated, duplicates: stored.duplicates, unmatched: batch.unmatched, tickets };
    await inside?.(trx, counts);
    return counts;
  });
}
