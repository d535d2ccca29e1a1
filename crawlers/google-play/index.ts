import type { Crawler } from '../types.ts';
import { fetchReviewsPage } from './fetch.ts';
import { parseReviews } from './parse.ts';
import { targetSchema } from './schema.ts';

export const googlePlay = {
  id: 'google-play',
  name: 'Google Play reviews',
  target: targetSchema,
  defaultSchedule: '0 */4 * * *',
  // Play answers bursts with a captcha and an IP ban of about an hour: stay well under what scrapers report works.
  rateLimit: { perHostPerSecond: 0.5 },
  expectedQuietDays: 14,
  matchKeywords: false,
  stopAtSeen: true,
  // Developer replies and edited reviews of the last two days are fetched again.
  recheckHours: 48,
  // Per language: ten pages of 150 reviews, 1,500 back on a first crawl; each language gets its own budget.
  maxPages: 10,
  fetchPage: fetchReviewsPage,
  parse: parseReviews,
} satisfies Crawler<typeof targetSchema>;
