import { detectBlockPage } from '../block-page.ts';
import { BlockedError, RateLimitedError, SourceChangedError, SourceUnavailableError } from '../errors.ts';
import type { MentionDetails, MentionDraft, MentionMetrics, MentionReply, ParseContext, ParsedPage, RawPage } from '../types.ts';
import {
  changedAt,
  listItems,
  readArray,
  readInteger,
  readOptionalArray,
  readOptionalInteger,
  readOptionalString,
  readOptionalTimestamp,
  readString,
  readTimestamp,
  rootPosition,
} from './positions.ts';
import type { Position } from './positions.ts';
import { decodeStreamCursor, encodeStreamCursor, PAYLOAD_AT, REVIEW_AT, REVIEWS_RPC, streamCursorSchema } from './schema.ts';
import type { StreamCursor } from './schema.ts';
import { tryParseJson } from '../payload.ts';

const XSSI_PREFIX = ")]}'";
const GATEWAY_ERROR = 'PlayGatewayError';
/**
 * Play answers throttling with HTTP 200 and a PlayGatewayError in place of the payload; the maintained scrapers
 * wait seconds and retry. A crawl every 4 h can afford to come back later instead of pressing on.
 */
const GATEWAY_RETRY_AFTER_MS = 10 * 60_000;

/** What the request said, read back from the form body (our own, so read leniently: unknown is null). */
interface RequestFacts {
  appId: string | null;
  token: string | null;
}

/**
 * One UsvDTd answer: `)]}'`, then the batchexecute frames; the `wrb.fr` frame of UsvDTd carries, as a JSON string,
 * `[reviews, [null, nextPageToken]]`. Pure: the language and the streams after it come from the cursor the page was
 * fetched with (or the `hl` of its URL), the app id from the request body.
 */
export function parseReviews(raw: RawPage, _ctx: ParseContext): ParsedPage {
  const frames = readFrames(raw);
  const payload = readPayload(raw, frames);
  const request = readRequest(raw.requestBody);
  const stream = locateStream(raw, request);
  const nextStreamCursor = stream && stream.i + 1 < stream.l.length ? encodeStreamCursor({ l: stream.l, i: stream.i + 1, t: null }) : null;
  if (payload === null) return { mentions: [], nextCursor: null, nextStreamCursor };

  if (!Array.isArray(payload)) throw changedAt('', 'payload', 'an array', payload);
  const root = rootPosition(payload);
  // `[]` or `[null]`: the language has no reviews (yet).
  const reviewsAt = readOptionalArray(root, PAYLOAD_AT.reviews, 'reviews');
  const reviews = reviewsAt === null ? [] : listItems(reviewsAt, 'reviews');

  const mentions: MentionDraft[] = [];
  const firstPathById = new Map<string, string>();
  for (const review of reviews) {
    const mention = mapReview(review, request.appId);
    const earlier = firstPathById.get(mention.externalId);
    // A review's edit history (another UsvDTd request) lists one id several times; a reviews page never does.
    if (earlier !== undefined) {
      const path = `${review.path}[${REVIEW_AT.id}]`;
      throw new SourceChangedError(
        `google-play reviews payload changed at ${path}: review id ${mention.externalId} repeats ${earlier}[${REVIEW_AT.id}], so this is not a reviews page (a review's edit history has this shape)`,
        path,
      );
    }
    firstPathById.set(mention.externalId, review.path);
    mentions.push(mention);
  }

  const token = readNextToken(root);
  // A token that points back at the page just read would page forever.
  const nextCursor =
    stream && token !== null && mentions.length > 0 && token !== stream.t ? encodeStreamCursor({ ...stream, t: token }) : null;
  return { mentions, nextCursor, nextStreamCursor };
}

/**
 * Whether an answer says the language has no reviews (a null payload, or an empty review list). Anything else,
 * an unreadable or failed answer included, is parse's to report.
 */
export function hasNoReviews(raw: RawPage): boolean {
  try {
    const payload = readPayload(raw, readFrames(raw));
    if (payload === null) return true;
    if (!Array.isArray(payload)) return false;
    const reviewsAt = readOptionalArray(rootPosition(payload), PAYLOAD_AT.reviews, 'reviews');
    return reviewsAt === null || listItems(reviewsAt, 'reviews').length === 0;
  } catch {
    return false;
  }
}

function mapReview(review: Position, appId: string | null): MentionDraft {
  const id = readString(review, REVIEW_AT.id, 'review id');
  if (id.trim() === '') throw changedAt(`${review.path}[${REVIEW_AT.id}]`, 'review id', 'a non-empty string', id);
  const author = readArray(review, REVIEW_AT.author, 'author');
  const rating = readInteger(review, REVIEW_AT.rating, 'rating');
  if (rating < 1 || rating > 5) throw changedAt(`${review.path}[${REVIEW_AT.rating}]`, 'rating', 'an integer 1..5', rating);
  const user = readOptionalArray(review, REVIEW_AT.user, 'reviewer');
  const thumbsUp = readOptionalInteger(review, REVIEW_AT.thumbsUp, 'thumbs up');
  const version = readOptionalString(review, REVIEW_AT.version, 'app version');

  const metrics: MentionMetrics = {};
  if (thumbsUp !== null) metrics.likes = thumbsUp;
  const details: MentionDetails = {};
  if (version) details.version = version;
  return {
    source: 'google-play',
    externalId: id,
    url: appId === null ? null : `https://play.google.com/store/apps/details?id=${encodeURIComponent(appId)}&reviewId=${encodeURIComponent(id)}`,
    author: {
      name: readOptionalString(author, 0, 'author name'),
      // "A Google user" (an anonymised reviewer) comes without an id.
      id: user === null ? null : readOptionalString(user, 0, 'reviewer id'),
    },
    // Only old reviews carry a title (the store once had them); new ones have null here.
    title: readOptionalString(review, REVIEW_AT.title, 'review title') || null,
    text: readOptionalString(review, REVIEW_AT.text, 'review text') ?? '',
    rating,
    publishedAt: readTimestamp(review, REVIEW_AT.publishedAt, 'review date'),
    // Play's hl prefers a language but does not filter by it (an hl=en page holds Arabic reviews): the pipeline detects it.
    lang: null,
    metrics,
    reply: readReply(review),
    parentExternalId: null,
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
}

function readReply(review: Position): MentionReply | null {
  const reply = readOptionalArray(review, REVIEW_AT.reply, 'developer reply');
  if (reply === null) return null;
  const text = readString(reply, 1, 'developer reply text');
  if (text.trim() === '') return null;
  return { text, at: readOptionalTimestamp(reply, 2, 'developer reply date') };
}

function readNextToken(root: Position): string | null {
  // The last page has no paging block at all: `[reviews]`.
  const paging = readOptionalArray(root, PAYLOAD_AT.paging, 'paging');
  if (paging === null) return null;
  return readOptionalString(paging, PAYLOAD_AT.token, 'next page token') || null;
}

/** The batchexecute frames: one JSON array after `)]}'`, or length-prefixed chunks of them (`rt=c`). */
function readFrames(raw: RawPage): unknown[][] {
  const text = raw.body.replace(/^\uFEFF/, '').trimStart();
  const rest = text.startsWith(XSSI_PREFIX) ? text.slice(XSSI_PREFIX.length) : text;
  const whole = tryParseJson(rest.trim());
  if (Array.isArray(whole)) return whole.filter(Array.isArray);
  const chunked = rest
    .split('\n')
    .filter((line) => line.trimStart().startsWith('['))
    .map((line) => tryParseJson(line.trim()))
    .filter(Array.isArray)
    .flatMap((chunk: unknown[]) => chunk.filter(Array.isArray));
  if (chunked.length > 0) return chunked;
  // Only a body that is not batchexecute JSON is scanned for a captcha: review texts may say "not a robot".
  const blocked = detectBlockPage(raw.body);
  if (blocked !== null) throw new BlockedError(`google-play: ${raw.url}: ${blocked}`);
  throw new SourceChangedError(
    `google-play reviews answer changed at (body): ${raw.url} is not batchexecute JSON (starts with ${JSON.stringify(raw.body.slice(0, 40))})`,
    '(body)',
  );
}

/** The decoded UsvDTd payload; null when Play says the language has no reviews. */
function readPayload(raw: RawPage, frames: unknown[][]): unknown {
  const index = frames.findIndex((f) => f[0] === 'wrb.fr' && f[1] === REVIEWS_RPC);
  const frame = frames[index];
  if (frame === undefined) {
    const error = frames.find((f) => f[0] === 'er');
    if (raw.body.includes(GATEWAY_ERROR)) throw gatewayError(raw);
    if (error !== undefined) {
      const status = typeof error[5] === 'number' ? error[5] : undefined;
      throw new SourceUnavailableError(`google-play: batchexecute answered an "er" frame ${JSON.stringify(error).slice(0, 120)}`, status);
    }
    const kinds = frames.map((f) => JSON.stringify(f.slice(0, 2))).join(', ');
    throw new SourceChangedError(
      `google-play reviews answer changed at envelope: no wrb.fr frame for ${REVIEWS_RPC} (frames: ${kinds.slice(0, 200) || 'none'})`,
      'envelope',
    );
  }
  const data = frame[2];
  if (data === null || data === undefined || data === '') {
    if (raw.body.includes(GATEWAY_ERROR)) throw gatewayError(raw);
    // [5] holds an rpc status when the call failed (e.g. [3]); absent, the call succeeded with nothing to say.
    if (frame[5] !== null && frame[5] !== undefined) {
      throw new SourceUnavailableError(`google-play: ${REVIEWS_RPC} failed with status ${JSON.stringify(frame[5]).slice(0, 120)}`);
    }
    return null;
  }
  if (typeof data !== 'string') throw changedAt(`envelope[${index}][2]`, 'UsvDTd payload', 'a JSON string or null', data);
  const payload = tryParseJson(data);
  if (payload === undefined) throw changedAt(`envelope[${index}][2]`, 'UsvDTd payload', 'a JSON string', data);
  return payload;
}

function gatewayError(raw: RawPage): RateLimitedError {
  return new RateLimitedError(`google-play: ${raw.url} answered ${GATEWAY_ERROR} (Play throttling)`, GATEWAY_RETRY_AFTER_MS);
}

/** The stream this page belongs to: the fetch cursor, else the `hl` of the recorded URL (one stream), else unknown. */
function locateStream(raw: RawPage, request: RequestFacts): StreamCursor | null {
  if (raw.cursor !== null) return decodeStreamCursor(raw.cursor);
  let hl: string | null = null;
  try {
    const url = new URL(raw.url);
    if (url.protocol === 'http:' || url.protocol === 'https:') hl = url.searchParams.get('hl');
  } catch {
    return null;
  }
  const checked = streamCursorSchema.safeParse({ l: [hl], i: 0, t: request.token });
  return checked.success ? checked.data : null;
}

/** App id and token of the UsvDTd call in a form body `f.req=[[["UsvDTd","[…,[…,[150,null,token],…],[appId,7]]",…]]]`. */
function readRequest(body: string | null | undefined): RequestFacts {
  const none = { appId: null, token: null };
  if (!body) return none;
  const freq = new URLSearchParams(body).get('f.req');
  const envelope = freq === null ? undefined : tryParseJson(freq);
  const call: unknown = Array.isArray(envelope) && Array.isArray(envelope[0]) ? envelope[0][0] : undefined;
  if (!Array.isArray(call) || call[0] !== REVIEWS_RPC || typeof call[1] !== 'string') return none;
  const request = tryParseJson(call[1]);
  if (!Array.isArray(request)) return none;
  const app: unknown = Array.isArray(request[3]) ? request[3][0] : undefined;
  const paging: unknown = Array.isArray(request[2]) && Array.isArray(request[2][2]) ? request[2][2][2] : undefined;
  return {
    appId: typeof app === 'string' && app !== '' ? app : null,
    token: typeof paging === 'string' && paging !== '' ? paging : null,
  };
}

