import { z } from 'zod';
import { markSecret } from '../../lib/secret.ts';

/** The API version earshot was written against (dev.vk.com names 5.199 as current). */
export const DEFAULT_API_VERSION = '5.199';
/** newsfeed.search serves at most 200 posts a request. */
export const SEARCH_PAGE_SIZE = 200;
/** wall.getComments serves at most 100 comments a request. */
export const COMMENTS_PAGE_SIZE = 100;
/** Replies VK inlines under each comment (`thread.items`); 10 is the most it gives. */
export const THREAD_ITEMS = 10;
/** Author fields asked for on every request: handles for URLs, audience sizes for reach. */
export const AUTHOR_FIELDS = 'screen_name,followers_count,members_count';

export const credentialsSchema = z.object({
  accessToken: markSecret(z.string().min(1)),
});

export type VkCredentials = z.infer<typeof credentialsSchema>;

export const CREDENTIALS_HINT =
  'set credentials.vk.accessToken in the config (a VK user access token, e.g. ${VK_TOKEN})';

const VK_URL = /^(?:https?:\/\/)?(?:m\.)?vk\.(?:com|ru)\//i;
const NUMERIC_COMMUNITY = /^(?:-|club|public|event)?(\d+)$/i;
const SCREEN_NAME = /^[a-z0-9_.]+$/i;

/**
 * One of the brand's own communities: a numeric id (`123`, `-123`, `club123`, `public123`, a vk.com link to one)
 * becomes its digits; a short address (`kaspibank`, `https://vk.com/kaspibank`) stays a screen name, which
 * wall.get takes as `domain`, so no groups.getById round trip is needed to resolve it.
 */
const communitySchema = z.union([z.number().int().positive(), z.string().trim().min(1)]).transform((value, ctx) => {
  if (typeof value === 'number') return String(value);
  const bare = value.replace(VK_URL, '').replace(/[/?#].*$/, '');
  const numeric = NUMERIC_COMMUNITY.exec(bare);
  if (numeric?.[1]) return numeric[1];
  if (SCREEN_NAME.test(bare)) return bare.toLowerCase();
  ctx.addIssue({
    code: 'custom',
    message: 'a VK community is its numeric id (123, club123) or its short address (the part after vk.com/)',
  });
  return z.NEVER;
});

export const targetSchema = z.object({
  /** The newsfeed.search query (VK's own syntax: words, "quoted phrases", #hashtags). */
  query: z.string().trim().min(1),
  /** The brand's own communities: comments under their latest posts are read too. */
  communities: z.array(communitySchema).max(20).default([]),
  /** How many of each community's latest posts get their comments read on every crawl. */
  commentPosts: z.number().int().min(1).max(100).default(10),
  /** How far back the first crawl of a target searches. */
  initialDays: z.number().int().min(1).max(365).default(7),
  apiVersion: z.string().regex(/^5\.\d+$/, 'a VK API version such as 5.199').default(DEFAULT_API_VERSION),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.vk.com'),
});

export type VkTarget = z.infer<typeof targetSchema>;

/**
 * Where a crawl of one target is: the search (paged by `next_from`), a community's wall (its latest posts),
 * or the comments of one of those posts (paged by offset). It carries what the following streams need, since
 * parse sees only the page: the communities still to read, the posts of this community still to read.
 */
export const cursorSchema = z.discriminatedUnion('stream', [
  z.object({
    stream: z.literal('search'),
    /** `start_time` (unix seconds) of the whole search; absent for a recording without it. */
    since: z.number().int().nonnegative().optional(),
    /** `next_from` of the previous page. */
    from: z.string().min(1).optional(),
    /** `end_time` (unix seconds): a new window below the 1000 results VK serves per query. */
    until: z.number().int().nonnegative().optional(),
    communities: z.array(z.string().min(1)).default([]),
  }),
  z.object({
    stream: z.literal('wall'),
    /** The first is read now, the rest follow. */
    communities: z.array(z.string().min(1)).min(1),
  }),
  z.object({
    stream: z.literal('comments'),
    /** The wall's owner id: negative for a community. */
    owner: z.number().int(),
    /** The community's name, for `details.place`. */
    place: z.string().nullable().default(null),
    /** The first is read now, the rest follow. */
    posts: z.array(z.number().int().positive()).min(1),
    offset: z.number().int().nonnegative().default(0),
    /** Communities after this one. */
    communities: z.array(z.string().min(1)).default([]),
  }),
]);

export type VkCursor = z.infer<typeof cursorSchema>;
export type SearchCursor = Extract<VkCursor, { stream: 'search' }>;
export type WallCursor = Extract<VkCursor, { stream: 'wall' }>;
export type CommentsCursor = Extract<VkCursor, { stream: 'comments' }>;

// ---- raw payloads --------------------------------------------------------------------------------------------

/** `{ error: { error_code, error_msg, request_params } }`, served with HTTP 200. */
export const apiErrorSchema = z.object({
  error: z.object({
    error_code: z.number().int(),
    error_msg: z.string().optional(),
  }),
});

const count = z.object({ count: z.number().int().nonnegative() }).optional().catch(undefined);

/** A user in `profiles`; everything but the id is optional (a wall.get recording has no screen_name). */
export const profileSchema = z.object({
  id: z.number().int(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  screen_name: z.string().optional(),
  followers_count: z.number().int().nonnegative().optional().catch(undefined),
});

/** A community in `groups`. */
export const groupSchema = z.object({
  id: z.number().int(),
  name: z.string().optional(),
  screen_name: z.string().optional(),
  members_count: z.number().int().nonnegative().optional().catch(undefined),
});

export const attachmentSchema = z.object({
  type: z.string(),
  link: z.object({ url: z.string() }).optional().catch(undefined),
});

// Attachments are decoration: one we cannot read is dropped, never a reason to lose the post.
const attachmentsSchema = z.array(z.unknown()).optional().catch(undefined);

/** The original of a repost (`copy_history[0]`). */
export const copiedPostSchema = z.object({
  id: z.number().int(),
  owner_id: z.number().int(),
  from_id: z.number().int().optional(),
  text: z.string().optional(),
});

/** A wall post, as newsfeed.search and wall.get give it: id, wall, date and text are what a mention needs. */
export const postSchema = z.object({
  id: z.number().int().positive(),
  owner_id: z.number().int(),
  from_id: z.number().int().optional(),
  signer_id: z.number().int().optional(),
  date: z.number().int().positive(),
  text: z.string(),
  post_type: z.string().optional(),
  attachments: attachmentsSchema,
  copy_history: z.array(z.unknown()).optional().catch(undefined),
  likes: count,
  reposts: count,
  comments: count,
  views: count,
  // 1 on paid posts; kept (PR wants to see them) and flagged in details.
  marked_as_ads: z.number().int().optional().catch(undefined),
});

/** A comment (wall_wall_comment): id, author, date and text are required by VK's own schema. */
export const commentSchema = z.object({
  id: z.number().int().positive(),
  from_id: z.number().int(),
  date: z.number().int().positive(),
  text: z.string(),
  owner_id: z.number().int().optional(),
  post_id: z.number().int().optional(),
  reply_to_comment: z.number().int().optional(),
  attachments: attachmentsSchema,
  likes: count,
  thread: z.object({ count: z.number().int().optional(), items: z.array(z.unknown()).optional() }).optional(),
});

/** A comment removed by its author or a moderator: VK keeps it, flagged, while replies hang under it. */
export const deletedCommentSchema = z.object({
  id: z.number().int().positive().optional(),
  deleted: z.union([z.literal(true), z.literal(1)]),
  thread: z.object({ items: z.array(z.unknown()).optional() }).optional(),
});

const directorySchema = {
  profiles: z.array(z.unknown()).optional(),
  groups: z.array(z.unknown()).optional(),
};

export const searchResponseSchema = z.object({
  items: z.array(z.unknown()),
  next_from: z.string().optional(),
  count: z.number().int().optional(),
  total_count: z.number().int().optional(),
  ...directorySchema,
});

export const wallResponseSchema = z.object({
  items: z.array(z.unknown()),
  count: z.number().int().optional(),
  ...directorySchema,
});

export const commentsResponseSchema = z.object({
  items: z.array(z.unknown()),
  count: z.number().int().optional(),
  current_level_count: z.number().int().optional(),
  ...directorySchema,
});

export const envelopeSchema = z.object({ response: z.record(z.string(), z.unknown()) });

export type VkProfile = z.infer<typeof profileSchema>;
export type VkGroup = z.infer<typeof groupSchema>;
export type VkPost = z.infer<typeof postSchema>;
export type VkComment = z.infer<typeof commentSchema>;
export type VkCopiedPost = z.infer<typeof copiedPostSchema>;
