import type { Crawler } from '../types.ts';
import { fetchFeed } from './fetch.ts';
import { parseFeed } from './parse.ts';
import { targetSchema } from './schema.ts';

export const rss = {
  id: 'rss',
  name: 'RSS / Atom feeds and Google News search',
  target: targetSchema,
  defaultSchedule: '*/30 * * * *',
  rateLimit: { perHostPerSecond: 1 },
  expectedQuietDays: 7,
  matchKeywords: true,
  stopAtSeen: false,
  maxPages: 1,
  fetchPage: fetchFeed,
  parse: parseFeed,
} satisfies Crawler<typeof targetSchema>;
