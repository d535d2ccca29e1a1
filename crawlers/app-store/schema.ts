import { z } from 'zod';

export const targetSchema = z.object({
  appId: z.string().regex(/^\d+$/, 'appId is the numeric App Store id (the digits after "id" in the app URL)'),
  // Our users' storefront; Apple keeps reviews per storefront, so a wrong country means an empty feed.
  country: z
    .string()
    .regex(/^[a-zA-Z]{2}$/)
    .transform((c) => c.toLowerCase())
    .default('kz'),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://itunes.apple.com'),
});

/** Apple serves at most 10 pages of 50 reviews per storefront. */
export const MAX_PAGE = 10;

export type AppStoreTarget = z.infer<typeof targetSchema>;

const label = z.object({ label: z.string() });

const feedLinkSchema = z.object({
  attributes: z.object({ rel: z.string().optional(), href: z.string() }),
});

// `link` and `entry` are objects instead of one-element arrays when there is only one.
const feedLinksSchema = z.union([feedLinkSchema, z.array(feedLinkSchema)]).optional();

const anyEntrySchema = z.looseObject({});

/** The customer-reviews JSON feed, down to the entries; each review entry is checked on its own. */
export const reviewsPayloadSchema = z.object({
  feed: z.object({
    entry: z.union([z.array(anyEntrySchema), anyEntrySchema]).optional(),
    link: feedLinksSchema,
  }),
});

/** An entry carrying `im:rating`: a review (old feeds start with an entry describing the app itself). */
export const reviewEntrySchema = z.object({
  id: label,
  title: label.optional(),
  content: label,
  'im:rating': z.object({ label: z.string().regex(/^[1-5]$/) }),
  'im:voteSum': label.optional(),
  'im:voteCount': label.optional(),
  'im:version': label.optional(),
  updated: label.optional(),
  author: z
    .object({
      name: label,
      uri: label.optional(),
    })
    .optional(),
  link: feedLinksSchema,
});

export type ReviewsPayload = z.infer<typeof reviewsPayloadSchema>;
export type ReviewEntry = z.infer<typeof reviewEntrySchema>;
export type FeedLinks = z.infer<typeof feedLinksSchema>;

/**
 * The iTunes lookup API (`/lookup?id=…&country=…&entity=software`): `results` lists what the storefront has under
 * that id. Only whether the app is among them is read.
 */
export const lookupSchema = z.object({
  resultCount: z.number().int().min(0),
  results: z.array(z.looseObject({ trackId: z.number().optional() })),
});
