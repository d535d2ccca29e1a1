import { z } from 'zod';

// Android's applicationId rule: two or more dot-separated segments, each starting with a letter, [A-Za-z0-9_] only.
const APP_ID = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+$/;
// Play's `hl`: a language code, optionally with a region (`pt-BR`, `zh_TW`).
const LANGUAGE = /^[a-z]{2,3}(?:[-_][a-zA-Z]{2,4})?$/;

export const targetSchema = z.object({
  appId: z
    .string()
    .regex(APP_ID, 'appId is the Android package name, the id= of the Play Store URL (e.g. kz.kaspi.mobile)'),
  // Play answers one language per request, so each language is its own newest-first stream.
  languages: z
    .array(z.string().regex(LANGUAGE, 'a Play language code such as ru, kk, en or pt-BR'))
    .min(1)
    .refine((langs) => new Set(langs).size === langs.length, 'languages must not repeat')
    .default(['ru', 'kk', 'en']),
  country: z
    .string()
    .regex(/^[a-zA-Z]{2}$/)
    .transform((c) => c.toLowerCase())
    .default('kz'),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://play.google.com'),
});

export type GooglePlayTarget = z.infer<typeof targetSchema>;

/** The batchexecute rpc that lists an app's reviews. */
export const REVIEWS_RPC = 'UsvDTd';
/** Sort order of the reviews rpc: 1 helpfulness, 2 newest, 3 rating. */
export const SORT_NEWEST = 2;
/** The most reviews one request returns. */
export const PAGE_SIZE = 150;

/**
 * Where a crawl is: the target's languages in order (one stream each), the current one, and Play's paging token
 * inside it (null: the stream's first page).
 */
export const streamCursorSchema = z.object({
  l: z.array(z.string().regex(LANGUAGE)).min(1),
  i: z.int().min(0),
  t: z.string().min(1).nullable(),
}).refine((c) => c.i < c.l.length, 'i must index l');

export type StreamCursor = z.infer<typeof streamCursorSchema>;

export function encodeStreamCursor(cursor: StreamCursor): string {
  return JSON.stringify({ l: cursor.l, i: cursor.i, t: cursor.t });
}

/** The cursor a string names; throws RangeError on anything this crawler did not write. */
export function decodeStreamCursor(cursor: string): StreamCursor {
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new RangeError(`google-play cursor is not JSON: ${cursor.slice(0, 80)}`);
  }
  const checked = streamCursorSchema.safeParse(json);
  if (!checked.success) throw new RangeError(`google-play cursor is invalid: ${checked.error.issues[0]?.message ?? 'invalid'}`);
  return checked.data;
}

/**
 * Positions inside one review array of the UsvDTd payload (`payload[0][n]`), as both recordings (2021, 2026)
 * have them. The payload is positional JSON, so parse reads it with a path reader rather than a zod object:
 * a missing or retyped position fails with its full path, e.g. `[0][3][5][0]`.
 */
export const REVIEW_AT = {
  id: 0,
  /** [name, avatar block] */
  author: 1,
  rating: 2,
  /** Old reviews only: the store once had review titles. */
  title: 3,
  text: 4,
  /** [seconds, nanos] */
  publishedAt: 5,
  thumbsUp: 6,
  /** [developer name, reply text, [seconds, nanos]] or null */
  reply: 7,
  /** [user id, name, ...] or null */
  user: 9,
  version: 10,
} as const;

/** Positions in the decoded payload: `[reviews, [null, nextPageToken]]`. */
export const PAYLOAD_AT = { reviews: 0, paging: 1, token: 1 } as const;
