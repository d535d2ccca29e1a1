import { parse as parseCron } from 'node-cron';
import { findCrawler, type CrawlerRegistry } from '../crawlers/registry.ts';

/** What recent crawls of a target took: medians of its last completed runs. */
export interface CrawlStats {
  durationMs: number;
  pages: number;
}

export interface HostLoad {
  /** The host a target's requests go to (its url or baseUrl), or its source when the params name none. */
  host: string;
  source: string;
  targets: number;
  /** Requests a second the schedules ask of the host, in their busiest hour. */
  requestsPerSecond: number;
  /** What the crawler's politeness allows the host. */
  politeRate: number;
  overloaded: boolean;
}

export interface ScheduleLoad {
  targets: number;
  /** Cron fires a minute, in the busiest hour of every schedule. */
  crawlsPerMinute: number;
  /** Crawls that must run at once, on average, for every fire to find its previous crawl done. */
  busySlots: number;
  /** Crawls the workers run at once (0: no worker is running). */
  slots: number;
  hosts: HostLoad[];
  /** The workers or a host's politeness cannot keep these schedules: fires will be skipped. */
  overloaded: boolean;
}

/**
 * Whether the workers can keep the schedules: each target costs (fires a second) × (what its recent crawls
 * took, or one page at its host's polite rate when it has none), and each host can take only its polite rate
 * of requests. Schedules are counted in their busiest hour (`*\/5 9-18 * * *` fires 12 times in each of those).
 */
export function estimateScheduleLoad(input: {
  targets: readonly { id: string; source: string; schedule: string; params: unknown }[];
  crawlers: CrawlerRegistry;
  history: ReadonlyMap<string, CrawlStats>;
  slots: number;
}): ScheduleLoad {
  let firesPerSecond = 0;
  let busySlots = 0;
  const hosts = new Map<string, HostLoad>();
  for (const target of input.targets) {
    const crawler = findCrawler(input.crawlers, target.source);
    if (!crawler) continue;
    const rate = crawler.rateLimit.perHostPerSecond;
    const fires = busiestHourFires(target.schedule) / 3600;
    const stats = input.history.get(target.id);
    const pages = stats?.pages ?? 1;
    firesPerSecond += fires;
    busySlots += fires * (stats ? stats.durationMs / 1000 : pages / rate);
    // With the crawler's defaults: a Telegram target names no host, its default baseUrl does.
    const parsed = crawler.target.safeParse(target.params);
    const host = hostOf(parsed.success ? parsed.data : target.params) ?? target.source;
    const load = hosts.get(host) ?? { host, source: target.source, targets: 0, requestsPerSecond: 0, politeRate: rate, overloaded: false };
    load.targets += 1;
    load.requestsPerSecond += fires * pages;
    load.politeRate = Math.min(load.politeRate, rate);
    hosts.set(host, load);
  }
  const hostLoads = [...hosts.values()].map((h) => ({ ...h, overloaded: h.requestsPerSecond > h.politeRate }));
  return {
    targets: input.targets.length,
    crawlsPerMinute: round(firesPerSecond * 60),
    busySlots: round(busySlots),
    slots: input.slots,
    hosts: hostLoads.map((h) => ({ ...h, requestsPerSecond: round(h.requestsPerSecond) })),
    overloaded: busySlots > input.slots || hostLoads.some((h) => h.overloaded),
  };
}

/** One line for the start-up message and the log; null when the schedules fit. */
export function describeScheduleLoad(load: ScheduleLoad): string | null {
  if (load.targets === 0) return null;
  const problems: string[] = [];
  if (load.slots === 0) problems.push('no worker is running yet (start earshot worker)');
  else if (load.busySlots > load.slots) {
    problems.push(`the schedules need about ${load.busySlots} crawls at once and the workers run ${load.slots} (earshot worker --concurrency, or more workers)`);
  }
  for (const h of load.hosts.filter((x) => x.overloaded)) {
    problems.push(`${h.targets} ${h.source} target(s) ask ${h.requestsPerSecond} requests/s of ${h.host}, which is polite at ${h.politeRate}/s (slow their schedules)`);
  }
  return problems.length === 0 ? null : `the schedule cannot be kept: ${problems.join('; ')}`;
}

/** Fires of a cron expression in an hour it fires in: seconds × minutes. */
export function busiestHourFires(schedule: string): number {
  const fields = parseCron(schedule);
  return fields.second.length * fields.minute.length;
}

function hostOf(params: unknown): string | null {
  const p = (params ?? {}) as { url?: unknown; baseUrl?: unknown };
  for (const value of [p.url, p.baseUrl]) {
    if (typeof value !== 'string') continue;
    try {
      return new URL(value).host;
    } catch {
      // not a URL: try the next
    }
  }
  return null;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
