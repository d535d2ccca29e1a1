import { z } from 'zod';

/** The 2GIS sites a branch can be read on; each serves the same web-app config with the public review key. */
export const DOMAINS = ['2gis.kz', '2gis.ru', '2gis.kg', '2gis.uz', '2gis.ae'] as const;

/**
 * `targets[].params` of the 2gis source: one branch (one address of a brand). A brand lists its branches as
 * separate targets; each target may name the team that owns it (`team:` in config: a city, a franchisee).
 */
export const targetSchema = z.object({
  branchId: z
    .string()
    .regex(/^\d{10,20}$/, 'branchId is the firm id in the 2GIS URL (the digits after /firm/, e.g. 70000001033566614)'),
  domain: z.enum(DOMAINS).default('2gis.kz'),
  locale: z
    .string()
    .regex(/^[a-z]{2}_[A-Z]{2}$/, 'locale is like ru_KZ, kk_KZ, ru_RU, en_AE')
    .default('ru_KZ'),
  // Only for the links shown to users (https://2gis.kz/almaty/firm/…); the API does not need it.
  city: z
    .string()
    .regex(/^[a-z0-9_-]+$/, 'city is the slug in the 2GIS URL, e.g. almaty')
    .optional(),
  /** Where firm pages are read (for the review key); default `https://{domain}`. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Overrides the reviews API root the firm page names (mirrors, tests), e.g. `https://host/3.0/`. */
  reviewsApiUrl: z.url({ protocol: /^https?$/ }).optional(),
});

export type TwoGisTarget = z.infer<typeof targetSchema>;

/** Pages fetched per crawl at most: 40 pages of 50 reviews reach 2,000 reviews back on a first crawl. */
export const MAX_PAGES = 40;
export const PAGE_SIZE = 50;

/** The part of the firm page's web-app config (`__customcfg`) the crawler reads. */
export const webAppConfigSchema = z.looseObject({
  reviewApiKey: z.string().regex(/^[A-Za-z0-9-]{8,}$/),
  reviewApi3Url: z.url({ protocol: /^https?$/ }).optional(),
  reviewApiUrl: z.url({ protocol: /^https?$/ }).optional(),
});

export type WebAppConfig = z.infer<typeof webAppConfigSchema>;

const count = z.number().int().nonnegative();

/**
 * One review, from the fields the web app requests (`fields=…reviews.hiding_reason,reviews.is_verified`) and
 * those parsers read. No raw recording exists: see fixtures/PROVENANCE.md.
 */
export const reviewSchema = z.looseObject({
  id: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]),
  text: z.string(),
  // `rated=true` is requested, so every review carries a 1-5 rating.
  rating: z.number().int().min(1).max(5),
  date_created: z.string().min(1),
  date_edited: z.string().nullable().optional(),
  is_hidden: z.boolean().optional(),
  is_verified: z.boolean().nullable().optional(),
  likes_count: count.nullable().optional(),
  comments_count: count.nullable().optional(),
  user: z.looseObject({ name: z.string().nullable().optional() }).nullable().optional(),
  official_answer: z
    .looseObject({
      text: z.string().nullable().optional(),
      date_created: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
});

export type Review = z.infer<typeof reviewSchema>;

/** `meta` of a reviews page; an error answer has a `code` other than 200 and an `error` (shape not verified). */
export const metaSchema = z.looseObject({
  code: z.number().int().optional(),
  next_link: z.string().nullable().optional(),
  branch_rating: z.number().nullable().optional(),
  branch_reviews_count: count.nullable().optional(),
  total_count: count.nullable().optional(),
  error: z
    .looseObject({ type: z.string().optional(), message: z.string().optional() })
    .nullable()
    .optional(),
});

/** The page envelope; each review is checked on its own so an error names its index. */
export const reviewsPageSchema = z.object({
  meta: metaSchema.optional(),
  reviews: z.array(z.unknown()),
});
