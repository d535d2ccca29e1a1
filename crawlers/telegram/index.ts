import type { Crawler } from '../types.ts';
import { fetchChannelPage } from './fetch.ts';
import { parseChannelPage } from './parse.ts';
import { targetSchema } from './schema.ts';

export const telegram = {
  id: 'telegram',
  name: 'Telegram public channels (t.me/s web preview)',
  target: targetSchema,
  // Channels post many times a day; a crawl that finds nothing new costs one page per stream.
  defaultSchedule: '*/30 * * * *',
  // t.me answers 429 when pushed; one page a second across every Telegram target.
  rateLimit: { perHostPerSecond: 1 },
  // A channel talks about many things and names a brand now and then: a month of silence is normal.
  expectedQuietDays: 30,
  matchKeywords: true,
  stopAtSeen: true,
  // Edits land on the newest posts, which the first page of every crawl fetches again anyway.
  recheckHours: 0,
  // About 20 posts a page: 400 posts back on a first crawl.
  maxPages: 20,
  fetchPage: fetchChannelPage,
  parse: parseChannelPage,
} satisfies Crawler<typeof targetSchema>;
