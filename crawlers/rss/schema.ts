import { z } from 'zod';

export const feedTargetSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
});

export const googleNewsTargetSchema = z.object({
  googleNews: z.object({
    query: z.string().trim().min(1),
    language: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/).default('ru'),
    country: z
      .string()
      .regex(/^[a-zA-Z]{2}$/)
      .transform((c) => c.toUpperCase())
      .default('KZ'),
  }),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://news.google.com'),
});

/** `targets[].params` of the rss source: a feed URL, or a Google News search that becomes one. */
export const targetSchema = z.union([feedTargetSchema, googleNewsTargetSchema]);

export type RssTarget = z.infer<typeof targetSchema>;
export type GoogleNewsTarget = z.infer<typeof googleNewsTargetSchema>;

// Feeds are loose: a field of an unexpected type is treated as absent rather than failing the whole feed.
const optionalText = z.string().optional().catch(undefined);

const newsSourceSchema = z
  .array(
    z.object({
      _: z.string().optional(),
      $: z.object({ url: z.string().optional() }).optional(),
    }),
  )
  .optional()
  .catch(undefined);

/** The fields of an rss-parser item this crawler relies on (xml2js text nodes already collapsed to strings). */
export const feedItemSchema = z.object({
  guid: optionalText,
  id: optionalText,
  link: optionalText,
  title: optionalText,
  pubDate: optionalText,
  isoDate: optionalText,
  creator: optionalText,
  author: optionalText,
  content: optionalText,
  'content:encoded': optionalText,
  summary: optionalText,
  /** `<source url="…">Name</source>`: the publisher in Google News items. */
  newsSource: newsSourceSchema,
});

export const parsedFeedSchema = z.object({
  title: optionalText,
  link: optionalText,
  items: z.array(feedItemSchema),
});

export type FeedItem = z.infer<typeof feedItemSchema>;
export type ParsedFeed = z.infer<typeof parsedFeedSchema>;
