import type { z } from 'zod';
import { SourceChangedError, sourceChangedAt } from '../errors.ts';
import { decodeHtmlEntities } from '../html-text.ts';
import type { MentionAuthor, MentionDetails, MentionDraft, MentionMetrics, MentionReply, ParseContext, ParsedPage, RawPage } from '../types.ts';
import { throwIfApiError } from './api-error.ts';
import { readCursor, writeCursor } from './cursor.ts';
import {
  attachmentSchema,
  COMMENTS_PAGE_SIZE,
  commentSchema,
  commentsResponseSchema,
  copiedPostSchema,
  deletedCommentSchema,
  envelopeSchema,
  groupSchema,
  postSchema,
  profileSchema,
  searchResponseSchema,
  wallResponseSchema,
} from './schema.ts';
import type {
  CommentsCursor,
  SearchCursor,
  VkComment,
  VkCopiedPost,
  VkCursor,
  VkGroup,
  VkPost,
  VkProfile,
  WallCursor,
} from './schema.ts';

type Stream = VkCursor['stream'];
type Response = Record<string, unknown>;

interface Directory {
  profiles: Map<number, VkProfile>;
  groups: Map<number, VkGroup>;
}

interface Issue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

const METHOD_STREAMS: Record<string, Stream> = {
  'newsfeed.search': 'search',
  'wall.get': 'wall',
  'wall.getComments': 'comments',
  // One comment, in the same shape as a page of them.
  'wall.getComment': 'comments',
};

/**
 * Parse one VK API answer. What it is comes from the cursor it was fetched with, else the method in its URL
 * (a recording), else its shape (a bare file): posts are read as search results, anything else as comments.
 */
export function parseVkPage(raw: RawPage, _ctx: ParseContext): ParsedPage {
  const method = methodOf(raw.url);
  const json = readJson(raw);
  throwIfApiError(json, method ?? 'API');
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw sourceChangedAt(envelope.error.issues, `vk ${method ?? 'answer'}`);
  const response = envelope.data.response;
  const cursor = raw.cursor === null ? null : readCursor(raw.cursor);
  const stream = cursor?.stream ?? (method ? METHOD_STREAMS[method] : undefined) ?? streamOfShape(response);
  const query = queryOf(raw.url);
  switch (stream) {
    case 'search':
      return parseSearch(response, cursor?.stream === 'search' ? cursor : searchCursorOf(query));
    case 'wall':
      return parseWall(response, cursor?.stream === 'wall' ? cursor : wallCursorOf(query));
    case 'comments':
      return parseComments(response, cursor?.stream === 'comments' ? contextOfCursor(cursor) : commentsContextOf(query));
  }
}

// ---- newsfeed.search ------------------------------------------------------------------------------------------

function parseSearch(response: Response, cursor: SearchCursor): ParsedPage {
  const page = check(searchResponseSchema, response, 'response');
  const dir = readDirectory(page.profiles, page.groups);
  const posts = page.items.map((item, i) => check(postSchema, item, `response.items[${i}]`));
  const own = new Set(cursor.communities);
  const mentions = posts.filter((post) => !isOwnCommunityPost(post, own, dir)).map((post) => mapPost(post, dir));

  let nextCursor: SearchCursor | null = null;
  if (posts.length > 0 && page.next_from) {
    nextCursor = { ...cursor, from: page.next_from };
  } else if (posts.length > 0 && servesMoreThanItPaged(page.count, page.total_count)) {
    // VK pages through at most 1000 results of a query; below them, a new window ending at the oldest post.
    const oldest = Math.min(...posts.map((p) => p.date));
    const below = cursor.until === undefined || oldest < cursor.until;
    if (below && oldest > (cursor.since ?? 0)) nextCursor = { stream: 'search', since: cursor.since, until: oldest, communities: cursor.communities };
  }
  const nextStream: WallCursor | null = cursor.communities.length > 0 ? { stream: 'wall', communities: cursor.communities } : null;
  return { mentions, nextCursor: nextCursor && writeCursor(nextCursor), nextStreamCursor: nextStream && writeCursor(nextStream) };
}

function servesMoreThanItPaged(count: number | undefined, total: number | undefined): boolean {
  return count !== undefined && total !== undefined && total > count;
}

/** The brand's own community posting on its own wall: its words, not a mention of it. */
function isOwnCommunityPost(post: VkPost, own: ReadonlySet<string>, dir: Directory): boolean {
  if (post.owner_id >= 0 || (post.from_id ?? post.owner_id) !== post.owner_id) return false;
  const groupId = -post.owner_id;
  const screenName = dir.groups.get(groupId)?.screen_name?.toLowerCase();
  return own.has(String(groupId)) || (screenName !== undefined && own.has(screenName));
}

// ---- wall.get -------------------------------------------------------------------------------------------------

/**
 * A community's latest posts. The community's own posts are not mentions; posts others left on its wall are.
 * The page leads on to the comments of every post that has any, whether or not its own items were known.
 */
function parseWall(response: Response, cursor: WallCursor | null): ParsedPage {
  const page = check(wallResponseSchema, response, 'response');
  const dir = readDirectory(page.profiles, page.groups);
  const posts = page.items.map((item, i) => check(postSchema, item, `response.items[${i}]`));
  const community = cursor?.communities[0];
  const owner = community !== undefined && /^\d+$/.test(community) ? -Number(community) : posts[0]?.owner_id;
  const rest = cursor?.communities.slice(1) ?? [];
  const nextWall: WallCursor | null = rest.length > 0 ? { stream: 'wall', communities: rest } : null;
  if (owner === undefined) return { mentions: [], nextCursor: null, nextStreamCursor: nextWall && writeCursor(nextWall) };

  const place = nameOf(owner, dir) ?? (community !== undefined && !/^\d+$/.test(community) ? community : null);
  const mentions = posts
    .filter((post) => (post.from_id ?? post.owner_id) !== post.owner_id)
    .map((post) => ({ ...mapPost(post, dir, place), onOwnPage: true }));
  const withComments = [...new Set(posts.filter((p) => p.comments === undefined || p.comments.count > 0).map((p) => p.id))];
  const comments: CommentsCursor | null =
    withComments.length > 0 ? { stream: 'comments', owner, place, posts: withComments, offset: 0, communities: rest } : null;
  return { mentions, nextCursor: writeNullable(comments), nextStreamCursor: writeNullable(comments ?? nextWall) };
}

// ---- wall.getComments -----------------------------------------------------------------------------------------

interface CommentsContext {
  owner: number | null;
  post: number | null;
  place: string | null;
  cursor: CommentsCursor | null;
}

/**
 * The comments of one post, newest first, with the replies VK inlines under each. The wall owner's own comments
 * are not mentions: a reply of the owner is the brand's answer (`reply`) to the comment it answers.
 */
function parseComments(response: Response, context: CommentsContext): ParsedPage {
  const page = check(commentsResponseSchema, response, 'response');
  const dir = readDirectory(page.profiles, page.groups);
  const mentions: MentionDraft[] = [];

  page.items.forEach((item, i) => {
    const path = `response.items[${i}]`;
    const deleted = deletedCommentSchema.safeParse(item);
    const top = deleted.success ? null : check(commentSchema, item, path);
    const threadItems = (deleted.success ? deleted.data.thread?.items : top?.thread?.items) ?? [];
    const thread = threadItems.flatMap((reply, j) =>
      deletedCommentSchema.safeParse(reply).success ? [] : [check(commentSchema, reply, `${path}.thread.items[${j}]`)],
    );
    const owner = context.owner ?? top?.owner_id ?? thread[0]?.owner_id ?? null;
    const post = context.post ?? top?.post_id ?? thread[0]?.post_id ?? null;
    const place = context.place ?? (owner === null ? null : nameOf(owner, dir));
    const where = { owner, post, place, dir };
    const ownerSaid = (c: VkComment) => owner !== null && c.from_id === owner;
    const answers = thread.filter(ownerSaid);

    if (top && !ownerSaid(top)) {
      const answer = answers.filter((a) => a.reply_to_comment === undefined || a.reply_to_comment === top.id);
      mentions.push(mapComment(top, where, null, earliestReply(answer)));
    }
    const threadOf = top?.id ?? (deleted.success ? deleted.data.id : undefined) ?? null;
    for (const reply of thread) {
      if (ownerSaid(reply)) continue;
      mentions.push(mapComment(reply, where, threadOf, earliestReply(answers.filter((a) => a.reply_to_comment === reply.id))));
    }
  });

  const cursor = context.cursor;
  if (!cursor) return { mentions, nextCursor: null };
  const total = page.current_level_count ?? page.count;
  const nextOffset = cursor.offset + page.items.length;
  const more = page.items.length > 0 && (total !== undefined ? nextOffset < total : page.items.length >= COMMENTS_PAGE_SIZE);
  const nextPage: CommentsCursor | null = more ? { ...cursor, offset: nextOffset } : null;
  const nextPost: CommentsCursor | null = cursor.posts.length > 1 ? { ...cursor, posts: cursor.posts.slice(1), offset: 0 } : null;
  const nextWall: WallCursor | null = cursor.communities.length > 0 ? { stream: 'wall', communities: cursor.communities } : null;
  return { mentions, nextCursor: writeNullable(nextPage), nextStreamCursor: writeNullable(nextPost ?? nextWall) };
}

function earliestReply(answers: VkComment[]): MentionReply | null {
  const first = [...answers].sort((a, b) => a.date - b.date)[0];
  return first ? { text: cleanText(first.text), at: isoOf(first.date) } : null;
}

// ---- mapping --------------------------------------------------------------------------------------------------

function mapPost(post: VkPost, dir: Directory, place?: string | null): MentionDraft {
  const authorId = post.from_id ?? post.owner_id;
  const original = readOriginal(post.copy_history);
  const own = cleanText(post.text);
  // A bare repost says nothing itself: what it spreads is the text.
  const text = own === '' && original ? cleanText(original.text ?? '') : own;
  const details: MentionDetails = {};
  const where = place ?? (post.owner_id < 0 ? nameOf(post.owner_id, dir) : null);
  if (where) details.place = where;
  const links = collectLinks(post.attachments, text);
  if (links.length > 0) details.links = links;
  if (original) {
    details.forwardedFrom = { name: nameOf(original.from_id ?? original.owner_id, dir), url: wallUrl(original.owner_id, original.id) };
  }
  if (post.marked_as_ads === 1) details.sponsored = true;
  if (post.signer_id !== undefined && post.signer_id !== authorId) {
    const signer = nameOf(post.signer_id, dir);
    if (signer) details.signature = signer;
  }
  return {
    source: 'vk',
    externalId: `${post.owner_id}_${post.id}`,
    url: wallUrl(post.owner_id, post.id),
    author: authorOf(authorId, dir),
    title: null,
    text,
    rating: null,
    publishedAt: isoOf(post.date),
    lang: null,
    metrics: metricsOf(post),
    reply: null,
    parentExternalId: null,
    details,
  };
}

function mapComment(
  comment: VkComment,
  where: { owner: number | null; post: number | null; place: string | null; dir: Directory },
  threadOf: number | null,
  reply: MentionReply | null,
): MentionDraft {
  const { owner, post, place, dir } = where;
  const known = owner !== null && post !== null;
  // Without the post it belongs to (a bare file of an old answer), the id says so rather than guessing.
  const postId = `${owner ?? '?'}_${post ?? '?'}`;
  const text = cleanText(comment.text);
  const details: MentionDetails = {};
  if (place) details.place = place;
  const links = collectLinks(comment.attachments, text);
  if (links.length > 0) details.links = links;
  const metrics: MentionMetrics = {};
  if (comment.likes) metrics.likes = comment.likes.count;
  if (comment.thread?.count !== undefined) metrics.comments = comment.thread.count;
  return {
    source: 'vk',
    externalId: `${postId}_${comment.id}`,
    url: known ? `${wallUrl(owner, post)}?reply=${comment.id}${threadOf === null ? '' : `&thread=${threadOf}`}` : null,
    author: authorOf(comment.from_id, dir),
    title: null,
    text,
    rating: null,
    publishedAt: isoOf(comment.date),
    lang: null,
    metrics,
    reply,
    parentExternalId: threadOf === null ? (known ? postId : null) : `${postId}_${threadOf}`,
    details,
    // Comments are read only under the brand's own communities' posts: about the brand, named or not.
    onOwnPage: true,
  };
}

function metricsOf(post: VkPost): MentionMetrics {
  const metrics: MentionMetrics = {};
  if (post.likes) metrics.likes = post.likes.count;
  if (post.comments) metrics.comments = post.comments.count;
  if (post.reposts) metrics.reposts = post.reposts.count;
  if (post.views) metrics.views = post.views.count;
  return metrics;
}

function readOriginal(history: unknown[] | undefined): VkCopiedPost | null {
  const parsed = copiedPostSchema.safeParse(history?.[0]);
  return parsed.success ? parsed.data : null;
}

/** User ids are positive, community ids negative; both resolve through the page's `profiles` and `groups`. */
function authorOf(id: number, dir: Directory): MentionAuthor {
  if (id < 0) {
    const group = dir.groups.get(-id);
    const author: MentionAuthor = {
      name: group?.name || null,
      handle: group?.screen_name || null,
      id: String(id),
      url: `https://vk.com/${group?.screen_name || `club${-id}`}`,
    };
    if (group?.members_count !== undefined) author.followers = group.members_count;
    return author;
  }
  const profile = dir.profiles.get(id);
  const author: MentionAuthor = {
    name: profile ? [profile.first_name, profile.last_name].filter(Boolean).join(' ') || null : null,
    handle: profile?.screen_name || null,
    id: String(id),
    url: `https://vk.com/${profile?.screen_name || `id${id}`}`,
  };
  if (profile?.followers_count !== undefined) author.followers = profile.followers_count;
  return author;
}

function nameOf(id: number, dir: Directory): string | null {
  if (id < 0) return dir.groups.get(-id)?.name || null;
  const profile = dir.profiles.get(id);
  return profile ? [profile.first_name, profile.last_name].filter(Boolean).join(' ') || null : null;
}

// Entries we cannot read only cost an author's name, so they are left out rather than failing the page.
function readDirectory(profiles: unknown[] | undefined, groups: unknown[] | undefined): Directory {
  const dir: Directory = { profiles: new Map(), groups: new Map() };
  for (const p of profiles ?? []) {
    const parsed = profileSchema.safeParse(p);
    if (parsed.success) dir.profiles.set(parsed.data.id, parsed.data);
  }
  for (const g of groups ?? []) {
    const parsed = groupSchema.safeParse(g);
    if (parsed.success) dir.groups.set(parsed.data.id, parsed.data);
  }
  return dir;
}

function wallUrl(owner: number, post: number): string {
  return `https://vk.com/wall${owner}_${post}`;
}

function isoOf(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

// ---- text -----------------------------------------------------------------------------------------------------

const MENTION_MARKUP = /\[(?:id|club|public|event)\d+\|([^\]]*)\]/g;

/** VK text as a person reads it: `[club1|Name]` mentions as their name, `<br>` (old answers) and entities decoded. */
export function cleanText(text: string): string {
  return decodeHtmlEntities(text.replace(/<br\s*\/?>/gi, '\n').replace(MENTION_MARKUP, '$1')).trim();
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"'\]\[]+/gi;

/** Link attachments first, then URLs written in the text; absolute, each once. */
function collectLinks(attachments: unknown[] | undefined, text: string): string[] {
  const links: string[] = [];
  for (const a of attachments ?? []) {
    const parsed = attachmentSchema.safeParse(a);
    if (parsed.success && parsed.data.type === 'link' && parsed.data.link && /^https?:\/\//i.test(parsed.data.link.url)) {
      links.push(parsed.data.link.url);
    }
  }
  for (const match of text.matchAll(URL_IN_TEXT)) links.push(match[0].replace(/[.,!?;:)»]+$/, ''));
  return [...new Set(links)];
}

// ---- what the page is -----------------------------------------------------------------------------------------

function methodOf(url: string): string | null {
  try {
    return /\/method\/([A-Za-z]+\.[A-Za-z]+)$/.exec(new URL(url).pathname)?.[1] ?? null;
  } catch {
    return null;
  }
}

function queryOf(url: string): URLSearchParams {
  try {
    return new URL(url).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

function streamOfShape(response: Response): Stream {
  if ('next_from' in response || 'total_count' in response) return 'search';
  const first: unknown = Array.isArray(response.items) ? response.items[0] : undefined;
  if (first === null || typeof first !== 'object') return 'search';
  const looksLikePost = 'post_type' in first || 'copy_history' in first || 'reposts' in first;
  return !looksLikePost && 'from_id' in first ? 'comments' : 'search';
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  return value !== null && /^-?\d+$/.test(value) ? Number(value) : undefined;
}

/** A recorded search without our cursor: its window from the URL, no communities to go on to. */
function searchCursorOf(query: URLSearchParams): SearchCursor {
  const cursor: SearchCursor = { stream: 'search', communities: [] };
  const since = intParam(query, 'start_time');
  const until = intParam(query, 'end_time');
  if (since !== undefined && since >= 0) cursor.since = since;
  if (until !== undefined && until >= 0) cursor.until = until;
  return cursor;
}

function wallCursorOf(query: URLSearchParams): WallCursor | null {
  const owner = intParam(query, 'owner_id');
  const community = owner !== undefined ? String(Math.abs(owner)) : query.get('domain');
  return community ? { stream: 'wall', communities: [community] } : null;
}

function contextOfCursor(cursor: CommentsCursor): CommentsContext {
  return { owner: cursor.owner, post: cursor.posts[0] ?? null, place: cursor.place, cursor };
}

/** A recorded page of comments: the wall and the post from its URL. */
function commentsContextOf(query: URLSearchParams): CommentsContext {
  const owner = intParam(query, 'owner_id') ?? null;
  const post = intParam(query, 'post_id') ?? null;
  const cursor: CommentsCursor | null =
    owner !== null && post !== null && post > 0
      ? { stream: 'comments', owner, place: null, posts: [post], offset: intParam(query, 'offset') ?? 0, communities: [] }
      : null;
  return { owner, post, place: null, cursor };
}

function readJson(raw: RawPage): unknown {
  // A byte-order mark survives when a test reads a saved file as text.
  const body = raw.body.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(body);
  } catch {
    throw new SourceChangedError(`${raw.url}: VK answered with something that is not JSON (starts with ${JSON.stringify(body.slice(0, 40))})`);
  }
}

// ---- schema checks --------------------------------------------------------------------------------------------

function check<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw sourceChangedAt(parsed.error.issues, 'vk answer', path);
  return parsed.data;
}


function writeNullable(cursor: VkCursor | null): string | null {
  return cursor === null ? null : writeCursor(cursor);
}
