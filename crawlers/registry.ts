import type { Crawler } from './types.ts';
import { appStore } from './app-store/index.ts';
import { googlePlay } from './google-play/index.ts';
import { reddit } from './reddit/index.ts';
import { rss } from './rss/index.ts';
import { telegram } from './telegram/index.ts';
import { twoGis } from './2gis/index.ts';
import { vk } from './vk/index.ts';

/** The explicit list of crawlers: adding a source is one line here. */
export const crawlers: Readonly<Record<string, Crawler>> = {
  [rss.id]: rss as unknown as Crawler,
  [appStore.id]: appStore as unknown as Crawler,
  [reddit.id]: reddit as unknown as Crawler,
  [twoGis.id]: twoGis as unknown as Crawler,
  [googlePlay.id]: googlePlay as unknown as Crawler,
  [telegram.id]: telegram as unknown as Crawler,
  [vk.id]: vk as unknown as Crawler,
};

export function findCrawler(source: string): Crawler | undefined {
  return Object.hasOwn(crawlers, source) ? crawlers[source] : undefined;
}
