import type { Crawler } from './types.ts';
import { appStore } from './app-store/index.ts';
import { googlePlay } from './google-play/index.ts';
import { reddit } from './reddit/index.ts';
import { rss } from './rss/index.ts';
import { telegram } from './telegram/index.ts';
import { twoGis } from './2gis/index.ts';
import { vk } from './vk/index.ts';

// Keyed by each crawler's id (a test checks they agree), so the keys are the one list of source ids.
const registry = {
  rss,
  'app-store': appStore,
  reddit,
  '2gis': twoGis,
  'google-play': googlePlay,
  telegram,
  vk,
};

export type SourceId = keyof typeof registry;

/** Crawlers by source id: what runCrawl, the config and the CLI are given (tests give their own). */
export type CrawlerRegistry = Readonly<Record<string, Crawler>>;

/** The explicit list of crawlers: adding a source is one line above. */
export const crawlers: Readonly<Record<SourceId, Crawler>> = registry as unknown as Record<SourceId, Crawler>;

export function findCrawler(registry: CrawlerRegistry, source: string): Crawler | undefined {
  return Object.hasOwn(registry, source) ? registry[source] : undefined;
}
