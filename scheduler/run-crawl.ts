import { ZodError } from 'zod';
import {
  BlockedError,
  MissingCredentialsError,
  RateLimitedError,
  SourceChangedError,
  TargetUnusableError,
} from '../crawlers/errors.ts';
import { alertFailingTarget, alertSilentTarget, type AlertTarget } from '../alerts/target-health.ts';
import type { HttpClient } from '../crawlers/http.ts';
import { findCrawler, type CrawlerRegistry } from '../crawlers/registry.ts';
import type { Crawler, MentionDraft } from '../crawlers/types.ts';
import type { Logger } from '../log/logger.ts';
import type { BrandModels } from '../pipeline/brand-models.ts';
import { ingestPage, type PageScope } from '../pipeline/ingest.ts';
import { brandQuery, compileQuery } from '../pipeline/query.ts';
import type { Db } from '../store/connect.ts';
import {
  finishCrawlRun,
  lastRunCompleted,
  recordCrawlProgress,
  startCrawlRun,
  type CrawlCounts,
} from '../store/crawl-runs.ts';
import type { Target, TargetState } from '../store/schema.ts';
import { findTarget, latestMentionAt, recordTargetFailure, recordTargetSuccess } from '../store/targets.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';

/** A brand as a crawl matches it. */
export interface CrawlBrand {
  id: number;
  name: string;
  keywords: readonly string[];
  ownAccounts?: readonly string[];
  query?: string | null;
  aliases?: readonly string[];
}

export interface CrawlTarget {
  id: string;
  source: string;
  params: unknown;
  /**
   * The brands the target listens for, in config order: an item is kept for each brand whose query it
   * matches. The first owns what the target keeps without a match (its branch's reviews, its own page).
   */
  brands: readonly CrawlBrand[];
  /** A query whose matches this target drops. */
  exclude?: string | null;
  /** The team that owns this target's tickets; absent: the policy's default team. */
  team?: string | null;
}

/** Discovered keys and tokens, per crawler id, kept across the runs of one process. */
export type CrawlCaches = Map<string, Map<string, unknown>>;

export interface CrawlDeps {
  db: Db;
  crawlers: CrawlerRegistry;
  /** The polite client for a crawler, spaced by its declared per-host rate. */
  httpFor(crawler: Crawler): HttpClient;
  now: () => Date;
  policy: TicketPolicy;
  log: Logger;
  caches: CrawlCaches;
  models: BrandModels;
  signal?: AbortSignal;
  /** `credentials` of the config, by source. */
  credentials?: Readonly<Record<string, unknown>>;
  /** The registered process running the crawl: if it dies mid-crawl, its run is closed as interrupted. */
  processId?: string | null;
}

const HOUR_MS = 60 * 60 * 1000;
// A guard against a crawler whose streams never end; real crawls stay far below (maxPages per stream).
const MAX_PAGES_PER_CRAWL = 1000;

function cacheFor(deps: CrawlDeps, crawler: Crawler): Map<string, unknown> {
  let cache = deps.caches.get(crawler.id);
  if (!cache) deps.caches.set(crawler.id, (cache = new Map()));
  return cache;
}

/** The reason a worker that is stopping aborts its crawls with: the run is interrupted, not failed. */
export class CrawlInterruptedError extends Error {
  override name = 'CrawlInterruptedError';
}

export interface CrawlSummary extends CrawlCounts {
  target: string;
  /** interrupted: the process stopped mid-crawl; the target's health is left as it was. */
  status: 'ok' | 'failed' | 'interrupted';
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
  const runId = await startCrawlRun(db, target.id, now(), deps.processId ?? null);
  try {
    const crawler = findCrawler(deps.crawlers, target.source);
    if (!crawler) throw new SourceChangedError(`unknown source "${target.source}"`);
    const params = crawler.target.parse(target.params);
    const credentials = deps.credentials?.[crawler.id];
    if (crawler.credentials?.required && credentials === undefined) throw new MissingCredentialsError(crawler.credentials.hint);
    const stored = await findTarget(db, target.id);
    // After an interrupted run, page through everything again: the pages it never reached are older
    // than the ids it did store, so stopping at those ids would lose them.
    const mayStopAtSeen = crawler.stopAtSeen && (await lastRunCompleted(db, target.id, runId));
    const watermark = mayStopAtSeen ? (stored?.watermark_at ?? null) : null;
    const recheckMs = (crawler.recheckHours ?? 0) * HOUR_MS;
    const recheckFrom = now().getTime() - recheckMs;
    const fetchDeps = {
      http: deps.httpFor(crawler),
      signal: deps.signal,
      now,
      since: watermark ? new Date(watermark.getTime() - Math.max(recheckMs, HOUR_MS)) : null,
      credentials,
      cache: cacheFor(deps, crawler),
    };
    // The first brand owns a target whose items are all about it (reviews): it keeps them without a match.
    const matchers = target.brands.map((brand, i) => ({ brand, matcher: !crawler.matchKeywords && i === 0 ? null : brandQuery(brand) }));
    // The sentiment models (tens of MB) are read when a page first brings items: a crawl that fails or finds
    // nothing, like most crawls of a quiet target, loads none.
    let withModels: Promise<PageScope['brands']> | null = null;
    const brandsFor = (items: number) =>
      items === 0 ? matchers : (withModels ??= Promise.all(matchers.map(async (b) => ({ ...b, models: await deps.models.forBrand(db, b.brand.id) }))));
    const exclude = target.exclude ? compileQuery(target.exclude) : null;
    let newestFetched: number | null = null;
    let cursor: string | null = null;
    let streamPages = 0;
    do {
      const raw = await crawler.fetchPage(params, cursor, fetchDeps);
      const page = await crawler.parse(raw, { fetchedAt: now() });
      counts.pages++;
      streamPages++;
      counts.fetched += page.mentions.length;
      const brands = await brandsFor(page.mentions.length);
      const result = await ingestPage({ db, now, policy: deps.policy }, page.mentions, { brands, targetId: target.id, team: target.team ?? null, exclude }, async (trx, pageCounts) => {
        counts.new += pageCounts.new;
        counts.updated += pageCounts.updated;
        counts.duplicates += pageCounts.duplicates;
        counts.unmatched += pageCounts.unmatched;
        counts.tickets += pageCounts.tickets;
        await recordCrawlProgress(trx, runId, counts);
      });
      const span = publishedSpan(page.mentions);
      if (span) newestFetched = Math.max(newestFetched ?? span.newest, span.newest);
      cursor = page.nextCursor;
      // Known ids stored, or dates reaching back to what a completed crawl already fetched (matched or
      // not, so a channel that rarely names the brand still stops), end the crawl; unless the page is
      // still inside the recheck window, where edits and the brand's answers are picked up.
      const reachedKnown = result.duplicates + result.updated > 0 || (watermark !== null && span !== null && span.oldest <= watermark.getTime());
      const inRecheck = recheckMs > 0 && span !== null && span.oldest >= recheckFrom;
      // A stream that ran out, reached what is known, or used its pages, hands over to the target's next stream.
      if (cursor === null || (mayStopAtSeen && reachedKnown && !inRecheck) || streamPages >= crawler.maxPages) {
        cursor = page.nextStreamCursor ?? null;
        streamPages = 0;
      }
    } while (cursor !== null && counts.pages < MAX_PAGES_PER_CRAWL);

    await finishCrawlRun(db, runId, { status: 'ok' }, now());
    await recordTargetSuccess(db, target.id, now(), newestFetched === null ? null : new Date(newestFetched));
    deps.log.info({ target: target.id, ...counts }, 'crawl finished');
    if (stored) await checkSilence(deps, target, stored);
    return { target: target.id, status: 'ok', ...counts };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (deps.signal?.aborted && deps.signal.reason instanceof CrawlInterruptedError) {
      await finishCrawlRun(db, runId, { status: 'interrupted', errorKind: 'Interrupted', error: deps.signal.reason.message }, now());
      deps.log.info({ target: target.id, ...counts }, 'crawl interrupted');
      return { target: target.id, status: 'interrupted', ...counts };
    }
    const failure = classifyFailure(error);
    await finishCrawlRun(db, runId, { status: 'failed', errorKind: error.name, error: error.message }, now());
    const health = await recordTargetFailure(db, target.id, { ...failure, error: `${error.name}: ${error.message}` }, now());
    deps.log.warn({ target: target.id, errorKind: error.name, error: error.message, ...counts }, 'crawl failed');
    if (health) await alertFailingTarget({ db, channels: deps.policy.channels, now: now() }, alertTargetOf(health, target));
    const retryAfterMs = error instanceof RateLimitedError ? { retryAfterMs: error.retryAfterMs } : {};
    return { target: target.id, status: 'failed', errorKind: error.name, error: error.message, ...retryAfterMs, ...counts };
  }
}

async function checkSilence(deps: CrawlDeps, target: CrawlTarget, stored: Target): Promise<void> {
  const latest = await latestMentionAt(deps.db, target.id);
  const health = { ...stored, state: 'ok' as const, consecutive_errors: 0, last_success_at: deps.now() };
  await alertSilentTarget(
    { db: deps.db, channels: deps.policy.channels, now: deps.now() },
    {
      ...alertTargetOf(health, target),
      createdAt: stored.created_at,
      expectedQuietDays: stored.expected_quiet_days,
      latestMentionAt: latest,
    },
  );
}

function alertTargetOf(health: Target, target: CrawlTarget): AlertTarget {
  return {
    id: target.id,
    source: target.source,
    brand: target.brands[0]!,
    state: health.state,
    lastSuccessAt: health.last_success_at,
    lastError: health.last_error,
    consecutiveErrors: health.consecutive_errors,
  };
}

/** Oldest and newest `publishedAt` on a page, in ms; null when no item has a date. */
function publishedSpan(mentions: readonly MentionDraft[]): { oldest: number; newest: number } | null {
  let oldest = Infinity;
  let newest = -Infinity;
  for (const m of mentions) {
    const at = m.publishedAt === null ? NaN : Date.parse(m.publishedAt);
    if (Number.isNaN(at)) continue;
    oldest = Math.min(oldest, at);
    newest = Math.max(newest, at);
  }
  return Number.isFinite(oldest) ? { oldest, newest } : null;
}

/** The error class is the policy: what the target's health becomes and whether it counts as an error. */
function classifyFailure(error: Error): { state: TargetState | null; countsAsError: boolean } {
  if (error instanceof RateLimitedError) return { state: 'degraded', countsAsError: false };
  if (error instanceof BlockedError) return { state: 'blocked', countsAsError: true };
  // Not an error of the source: the target waits, disabled with the one line saying what to configure.
  if (error instanceof MissingCredentialsError) return { state: 'disabled', countsAsError: false };
  if (error instanceof SourceChangedError || error instanceof TargetUnusableError) return { state: 'needs_action', countsAsError: true };
  if (error instanceof ZodError) return { state: 'needs_action', countsAsError: true };
  return { state: 'degraded', countsAsError: true };
}
