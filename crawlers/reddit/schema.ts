import { z } from 'zod';
import { markSecret } from '../../lib/secret.ts';

const httpUrl = z.url({ protocol: /^https?$/ });

// Subreddit names are 3..21 letters, digits or "_"; a few old ones are 2 long ("de", "tr").
const SUBREDDIT_NAME = /^[A-Za-z0-9][A-Za-z0-9_]{1,20}$/;

export const targetSchema = z
  .object({
    /** Reddit search syntax: `kaspi OR "kaspi bank"`, `title:kaspi`, `subreddit:Kazakhstan kaspi`. */
    query: z.string().trim().min(1).max(512).optional(),
    /** Restrict to one subreddit (`restrict_sr`); "r/" in front is accepted. */
    subreddit: z
      .string()
      .trim()
      .transform((name) => name.replace(/^\/?r\//i, ''))
      .pipe(z.string().regex(SUBREDDIT_NAME, 'a subreddit name: letters, digits and "_", without "r/"'))
      .optional(),
    /** `search`: posts matching `query`; `comments`: the newest comments of `subreddit` (keyword-matched). */
    listing: z.enum(['search', 'comments']).default('search'),
    baseUrl: httpUrl.default('https://oauth.reddit.com'),
    authUrl: httpUrl.default('https://www.reddit.com'),
    rssBaseUrl: httpUrl.default('https://www.reddit.com'),
  })
  .superRefine((target, ctx) => {
    if (target.listing === 'search' && target.query === undefined) {
      ctx.addIssue({ code: 'custom', path: ['query'], message: 'a Reddit search needs a query, e.g. "kaspi OR каспи"' });
    }
    if (target.listing === 'comments' && target.subreddit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['subreddit'], message: 'the comments listing reads one subreddit: set subreddit' });
    }
  });

export type RedditTarget = z.infer<typeof targetSchema>;

/** `credentials.reddit`: a Reddit "script" or "web" app, which may use the client-credentials grant. */
export const credentialsSchema = z.object({
  clientId: z.string().trim().min(1),
  clientSecret: markSecret(z.string().trim().min(1)),
  /** Reddit asks for `<platform>:<app id>:<version> (by /u/<username>)`; default: earshot's own. */
  userAgent: z.string().trim().min(1).optional(),
});

export type RedditCredentials = z.infer<typeof credentialsSchema>;

/** `POST /api/v1/access_token` with `grant_type=client_credentials`. */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
  scope: z.string().optional(),
});

/** What the token endpoint answers, with HTTP 200, when it refuses the grant. */
export const tokenErrorSchema = z.object({ error: z.union([z.string(), z.number()]) });

/**
 * The JSON of a refused listing (403 or 404): `{"reason": "private", "message": "Forbidden", "error": 403}`.
 * Reasons seen: private, quarantined, gated, banned.
 */
export const refusalSchema = z.looseObject({ reason: z.string().min(1), error: z.number().optional() });

/** One item of a listing: a kind ("t3" link, "t1" comment, ...) and its data, checked by kind. */
const thingSchema = z.object({ kind: z.string(), data: z.looseObject({}) });

export const listingSchema = z.object({
  kind: z.literal('Listing'),
  data: z.object({
    after: z.string().nullable().optional(),
    children: z.array(thingSchema),
  }),
});

// A field that is only shown (scores, the author's id) is dropped when its type changes, never fatal.
const shownNumber = z.number().optional().catch(undefined);
const shownString = z.string().nullable().optional().catch(undefined);
const createdUtc = z.number().positive();

/** A "t3" thing: a post (a self post with `selftext`, or a link post whose `url` points elsewhere). */
export const linkSchema = z.object({
  name: z.string().regex(/^t3_[a-z0-9]+$/i),
  title: z.string(),
  selftext: z.string().optional(),
  author: z.string(),
  author_fullname: shownString,
  permalink: z.string().startsWith('/'),
  created_utc: createdUtc,
  subreddit: z.string().min(1),
  score: shownNumber,
  num_comments: shownNumber,
  is_self: z.boolean().optional().catch(undefined),
  url: shownString,
});

/** A "t1" thing: a comment, under the post `link_id`. */
export const commentSchema = z.object({
  name: z.string().regex(/^t1_[a-z0-9]+$/i),
  body: z.string(),
  author: z.string(),
  author_fullname: shownString,
  permalink: z.string().startsWith('/'),
  created_utc: createdUtc,
  subreddit: z.string().min(1),
  score: shownNumber,
  link_id: z.string().regex(/^t3_[a-z0-9]+$/i),
});

export type RedditLink = z.infer<typeof linkSchema>;
export type RedditComment = z.infer<typeof commentSchema>;
