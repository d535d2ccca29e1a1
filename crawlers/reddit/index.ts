import type { Crawler } from '../types.ts';
import { fetchRedditPage } from './fetch.ts';
import { parseRedditPage } from './parse.ts';
import { credentialsSchema, targetSchema } from './schema.ts';

export const reddit = {
  id: 'reddit',
  name: 'Reddit search',
  target: targetSchema,
  defaultSchedule: '0 * * * *',
  // OAuth apps get about 100 requests a minute; one a second stays under it with the token request included.
  rateLimit: { perHostPerSecond: 1 },
  expectedQuietDays: 14,
  credentials: {
    schema: credentialsSchema,
    required: false,
    hint: 'set credentials.reddit.clientId and clientSecret (a Reddit "script" or "web" app) for full search; without them earshot reads the public RSS search',
  },
  matchKeywords: true,
  stopAtSeen: true,
  recheckHours: 0,
  // Reddit search stops at about 1000 results: 10 pages of 100.
  maxPages: 10,
  fetchPage: fetchRedditPage,
  parse: parseRedditPage,
} satisfies Crawler<typeof targetSchema, typeof credentialsSchema>;
