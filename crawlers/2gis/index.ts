import type { Crawler } from '../types.ts';
import { fetchReviewsPage } from './fetch.ts';
import { parseReviews } from './parse.ts';
import { MAX_PAGES, targetSchema } from './schema.ts';

export const twoGis = {
  id: '2gis',
  name: '2GIS reviews',
  target: targetSchema,
  defaultSchedule: '20 */4 * * *',
  // Firm pages and the reviews API are on different hosts; each gets one request a second.
  rateLimit: { perHostPerSecond: 1 },
  // One branch of a brand may get a review a month; silence alerts should not fire for a quiet address.
  expectedQuietDays: 30,
  matchKeywords: false,
  stopAtSeen: true,
  // Reviews are sorted by creation: edits and the brand's official answers of the last two days are re-read.
  recheckHours: 48,
  maxPages: MAX_PAGES,
  fetchPage: fetchReviewsPage,
  parse: parseReviews,
} satisfies Crawler<typeof targetSchema>;
