import type { Crawler } from '../types.ts';
import { fetchReviewsPage } from './fetch.ts';
import { parseReviews } from './parse.ts';
import { MAX_PAGE, targetSchema } from './schema.ts';

export const appStore = {
  id: 'app-store',
  name: 'Apple App Store reviews',
  target: targetSchema,
  defaultSchedule: '0 */4 * * *',
  rateLimit: { perHostPerSecond: 1 },
  expectedQuietDays: 14,
  matchKeywords: false,
  stopAtSeen: true,
  maxPages: MAX_PAGE,
  fetchPage: fetchReviewsPage,
  parse: parseReviews,
} satisfies Crawler<typeof targetSchema>;
