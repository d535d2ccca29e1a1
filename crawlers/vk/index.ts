import type { Crawler } from '../types.ts';
import { fetchVkPage } from './fetch.ts';
import { parseVkPage } from './parse.ts';
import { credentialsSchema, CREDENTIALS_HINT, targetSchema } from './schema.ts';

export const vk = {
  id: 'vk',
  name: 'VK: newsfeed search and comments in the brand\'s communities',
  target: targetSchema,
  defaultSchedule: '0 * * * *',
  // VK allows 3 requests per second per user token; every VK target, in every process, shares the token.
  rateLimit: { perHostPerSecond: 3, perAccount: true },
  expectedQuietDays: 7,
  credentials: { schema: credentialsSchema, required: true, hint: CREDENTIALS_HINT },
  matchKeywords: true,
  stopAtSeen: true,
  recheckHours: 0,
  // 5 search pages (VK serves 1000 results a query) plus a wall and up to 10 comment pages per community.
  maxPages: 40,
  fetchPage: fetchVkPage,
  parse: parseVkPage,
} satisfies Crawler<typeof targetSchema, typeof credentialsSchema>;
