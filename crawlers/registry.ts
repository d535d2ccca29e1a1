import type { Crawler } from './types.ts';
import { appStore } from './app-store/index.ts';
import { rss } from './rss/index.ts';

/** The explicit list of crawlers: adding a source is one line here. */
export const crawlers: Readonly<Record<string, Crawler>> = {
  [rss.id]: rss as unknown as Crawler,
  [appStore.id]: appStore as unknown as Crawler,
};

export function findCrawler(source: string): Crawler | undefined {
  return Object.hasOwn(crawlers, source) ? crawlers[source] : undefined;
}
