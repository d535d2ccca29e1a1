import { z } from 'zod';

// Telegram usernames: a letter, then letters, digits and underscores; 5..32 long, 4 for auctioned short names.
const USERNAME = /^[a-z][a-z0-9_]{3,31}$/;

/** "@name", "name", "t.me/name", "https://t.me/s/name" all name the same channel; ids use it lower-cased. */
export function normalizeChannel(value: string): string {
  return value
    .trim()
    .replace(/^(?:https?:\/\/)?(?:www\.)?(?:t|telegram)\.me\/(?:s\/)?/i, '')
    .replace(/^@/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

export const targetSchema = z.object({
  channel: z
    .string()
    .transform(normalizeChannel)
    .pipe(z.string().regex(USERNAME, 'channel is a public channel username: @name, name or https://t.me/name')),
  // Optional in-channel searches: one stream per keyword instead of the whole channel.
  keywords: z
    .array(z.string().trim().min(1))
    .default([])
    .transform((list) => [...new Set(list)]),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://t.me'),
});

export type TelegramTarget = z.infer<typeof targetSchema>;

/**
 * Where a crawl is: the stream (the whole channel, or one keyword search followed by the keywords still to
 * search) and the page of it (`before`: t.me's "messages older than this id").
 */
export const cursorSchema = z.object({
  keyword: z.string().min(1).nullable(),
  nextKeywords: z.array(z.string().min(1)),
  before: z.number().int().positive().nullable(),
  page: z.number().int().min(1),
});

export type TelegramCursor = z.infer<typeof cursorSchema>;

/**
 * A keyword search stops after this many pages and hands over to the next keyword, so that on a first crawl
 * one busy keyword cannot spend the whole page budget; later crawls stop at known posts long before it.
 */
export const MAX_PAGES_PER_KEYWORD = 5;

/** What a message of the t.me/s page must carry to become a mention, as strings read from its markup. */
export const messageSchema = z.object({
  // "channel/123": the post's permanent address.
  post: z.string().regex(/^[A-Za-z0-9_]+\/\d+$/, 'expected "channel/id"'),
  datetime: z.iso.datetime({ offset: true }),
  text: z.string(),
  views: z.string().optional(),
  ownerName: z.string().optional(),
  signature: z.string().optional(),
  forwardedFrom: z.object({ name: z.string().nullable(), url: z.string().nullable() }).optional(),
  links: z.array(z.string()),
});

export type TelegramMessage = z.infer<typeof messageSchema>;
