import { channelRoutesOf } from '../config/channel-routes.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { setOutboundPolicy } from '../lib/outbound.ts';
import { createHttpClient, type HttpClient, type HttpExchange, type PoliteHttpClient } from '../crawlers/http.ts';
import { crawlers as registry, type CrawlerRegistry } from '../crawlers/registry.ts';
import type { Crawler } from '../crawlers/types.ts';
import type { Logger } from '../log/logger.ts';
import { createBrandModels, type BrandModels } from '../pipeline/brand-models.ts';
import type { CrawlCaches, CrawlDeps } from '../scheduler/run-crawl.ts';
import { planDestinationAlerts } from '../alerts/destination-health.ts';
import { destinationsOf, ticketPolicyOf } from '../scheduler/sync-config.ts';
import { migrateToLatest, openStore, withStartupLock, type Store } from '../store/connect.ts';
import { reserveHostSlot } from '../store/host-slots.ts';
import type { DeliveryDeps } from '../delivery/outbox.ts';
import type { Env } from './context.ts';

/**
 * The composition root: the one place that builds what the roles and commands of a process share. Every role
 * (api, scheduler, worker, all three in `earshot run`) and every command gets its parts from here; nothing
 * below reaches for a global registry, clock or cache.
 */
export interface Runtime {
  readonly crawlers: CrawlerRegistry;
  readonly caches: CrawlCaches;
  readonly models: BrandModels;
  readonly now: () => Date;
  /** The store, opened (and migrated, unless told not to) on first use, shared by everything in the process. */
  store(): Promise<Store>;
  /** Applies the migrations the store lacks; returns their names. */
  migrate(): Promise<string[]>;
  /**
   * The polite client for a crawler: one per process, so its per-host slots are shared by every crawl; for a
   * source that limits an account, the slots are shared by every process through PostgreSQL.
   */
  httpFor(crawler: Crawler): HttpClient;
  crawlDeps(config: EarshotConfig, log: Logger, extra?: Partial<CrawlDeps>): Promise<CrawlDeps>;
  deliveryDeps(config: EarshotConfig, log: Logger): Promise<DeliveryDeps>;
  /** Closes the HTTP client and the store; a second call waits for the first. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  env: Env;
  /** The embedded data directory (the caller's EARSHOT_DATA_DIR, resolved). */
  dataDir: string;
  /** What the process runs, told to another process that finds the data directory held. */
  role: string;
  log: Logger;
  /** Record mode: every HTTP response, for `earshot crawl --record`. */
  onExchange?: (exchange: HttpExchange) => void;
  /** False: open the store as it is (`earshot migrate` says what it applies). Default true. */
  migrateOnOpen?: boolean;
  /** An open store to use instead (a test's); the runtime leaves closing it to its owner. */
  store?: Store;
  /** The process will run the commands of CLIs beside it on its store (earshot run). */
  servesCommands?: boolean;
}

export function createRuntime(opts: RuntimeOptions): Runtime {
  let opened: Promise<Store> | null = null;
  let http: PoliteHttpClient | null = null;
  let closing: Promise<void> | null = null;
  const now = () => new Date();
  const given = opts.store;
  const store = (): Promise<Store> => (given ? Promise.resolve(given) : (opened ??= openMigratedStore(opts)));

  const runtime: Runtime = {
    crawlers: registry,
    caches: new Map(),
    models: createBrandModels(),
    now,
    store,
    async migrate() {
      const opened = await store();
      return withStartupLock(opened, () => migrateToLatest(opened.db));
    },
    httpFor(crawler) {
      http ??= createHttpClient(opts.onExchange ? { onExchange: opts.onExchange } : {});
      const { perHostPerSecond, perAccount } = crawler.rateLimit;
      if (!perAccount || opts.env.DATABASE_URL === undefined) return http.withRate(perHostPerSecond);
      // Other processes (workers on other hosts) send with the same account: take the slots in the database.
      return http.withRate(perHostPerSecond, {
        reserveSlot: async (host, intervalMs) => reserveHostSlot((await store()).db, `${crawler.id}:${host}`, intervalMs),
      });
    },
    async crawlDeps(config, log, extra = {}) {
      // The process connects where its config allows (one config per process: the one it runs with).
      setOutboundPolicy(config.network);
      const { db } = await store();
      return {
        db, crawlers: runtime.crawlers, httpFor: runtime.httpFor, now, log, policy: ticketPolicyOf(config),
        credentials: config.credentials, caches: runtime.caches, models: runtime.models, ...extra,
      };
    },
    async deliveryDeps(config, log) {
      setOutboundPolicy(config.network);
      const { db } = await store();
      return {
        db, now, log, policy: config.delivery, destinationOf: destinationsOf(config), nextSlot: new Map<string, number>(),
        channels: channelRoutesOf(config), planDestinationAlerts, publicUrl: config.publicUrl ?? null,
      };
    },
    close() {
      closing ??= (async () => {
        await http?.close();
        if (opened) await (await opened.catch(() => null))?.close();
      })();
      return closing;
    },
  };
  return runtime;
}

async function openMigratedStore(opts: RuntimeOptions): Promise<Store> {
  const onConnectionLost = (err: Error) => opts.log.warn({ err: err.message }, 'database connection lost; reconnecting on next use');
  const store = await openStore({
    databaseUrl: opts.env.DATABASE_URL, dataDir: opts.dataDir, onConnectionLost, role: opts.role, servesCommands: opts.servesCommands ?? false,
  });
  try {
    if (opts.migrateOnOpen ?? true) await withStartupLock(store, () => migrateToLatest(store.db));
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}
