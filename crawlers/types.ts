import type { z } from 'zod';
import type { HttpClient } from './http.ts';

/** Who wrote a mention, as far as the source tells. */
export interface MentionAuthor {
  name: string | null;
  handle?: string | null;
  id?: string | null;
  url?: string | null;
  followers?: number | null;
}

export interface MentionMetrics {
  likes?: number;
  dislikes?: number;
  comments?: number;
  reposts?: number;
  views?: number;
  votes?: number;
}

/**
 * What a source tells beyond the common fields, kept with the mention and shown to whoever triages it.
 * Every key is optional: a source sets only what it really has.
 */
export interface MentionDetails {
  /** The source vouches for the review (2GIS "confirmed" review: a real visit or purchase). */
  verified?: boolean;
  /** Links in the text or attached (Telegram, VK), absolute URLs. */
  links?: string[];
  /** A repost or forward: where it came from (Telegram "Forwarded from", VK copy_history). */
  forwardedFrom?: { name: string | null; url: string | null };
  /** Who signed a channel post (Telegram author signature), when it is not the channel itself. */
  signature?: string;
  /** The app version or branch a review is about (store reviews). */
  version?: string;
  /** Where on the source: subreddit, VK community, Telegram channel. */
  place?: string;
  /** Paid placement (VK `marked_as_ads`): PR wants to see it, triage may filter it out. */
  sponsored?: boolean;
}

/** The brand's own answer to a mention (a review reply, an official comment). */
export interface MentionReply {
  text: string;
  at: string | null;
}

/**
 * What a crawler's pure `parse` produces: one item of a source, not yet matched, scored or stored.
 * `publishedAt` is an ISO timestamp from the source and is never invented: null when unknown.
 */
export interface MentionDraft {
  source: string;
  externalId: string;
  url: string | null;
  author: MentionAuthor;
  title: string | null;
  text: string;
  rating: number | null;
  publishedAt: string | null;
  lang: string | null;
  metrics: MentionMetrics;
  reply: MentionReply | null;
  parentExternalId: string | null;
  details?: MentionDetails;
  /**
   * Posted on the brand's own page (a comment under its VK community's post, a post on its wall): it is about
   * the brand without naming it, so it is kept even where the crawler's items must match the brand's keywords.
   */
  onOwnPage?: boolean;
}

/** One fetched response, decoded to text, plus the cursor it was fetched with. */
export interface RawPage {
  url: string;
  status: number;
  contentType: string | null;
  body: string;
  cursor: string | null;
  /** The body of a POST that fetched the page (Google Play's batchexecute names the app only there). */
  requestBody?: string | null;
}

export interface ParseContext {
  /** When the page was fetched; parse never reads the clock itself. */
  fetchedAt: Date;
}

export interface ParsedPage {
  mentions: MentionDraft[];
  /** Cursor for the next (older) page, or null when this was the last one. */
  nextCursor: string | null;
  /**
   * For crawlers that read several newest-first streams in one target (Google Play languages, a VK search
   * and the brand's communities): the first page of the next stream. When this stream reaches known items,
   * runCrawl goes on here instead of stopping; null or absent: no other stream.
   */
  nextStreamCursor?: string | null;
}

export interface FetchDeps<C = unknown> {
  http: HttpClient;
  signal?: AbortSignal;
  now: () => Date;
  /**
   * Where the stored history of this target ends, minus an overlap: sources that query by time (VK's
   * `start_time`) start there. Null on a first crawl or after an interrupted one: take what the source gives.
   */
  since: Date | null;
  /** The crawler's credentials from config (`credentials.<source>`), checked by its schema; undefined when absent. */
  credentials: C | undefined;
  /** Per crawler and process, kept across runs: discovered keys, OAuth tokens. */
  cache: Map<string, unknown>;
}

/** What a crawler needs from `credentials.<source>` in config. */
export interface CrawlerCredentials<C extends z.ZodType = z.ZodType> {
  schema: C;
  /** True: without them the crawler cannot run, its targets are disabled with `hint` as the reason. */
  required: boolean;
  /** One line telling the user what to configure, e.g. "set credentials.vk.accessToken (a VK user token)". */
  hint: string;
}

export interface Crawler<T extends z.ZodType = z.ZodType, C extends z.ZodType = z.ZodType> {
  id: string;
  name: string;
  /** zod schema of the target parameters in config (`targets[].params`). */
  target: T;
  defaultSchedule: string;
  /**
   * Requests per second to each host this crawler reaches; `http.ts` spaces them, shared across crawlers.
   * `perAccount`: the source limits the account (every target shares one token), so the slots are shared by
   * every process through the database, not only within one.
   */
  rateLimit: { perHostPerSecond: number; perAccount?: boolean };
  /** A target with no new mention for longer than this raises a `target.silent` alert (config may override). */
  expectedQuietDays: number;
  credentials?: CrawlerCredentials<C>;
  /**
   * False for sources whose items are about the target itself (reviews of the brand's own app or branch):
   * every item is kept. True for searches and feeds, where only keyword matches are kept.
   */
  matchKeywords: boolean;
  /**
   * Newest-first sources stop paging at the first page that holds an id a completed crawl stored, or that
   * reaches back to the newest item a completed crawl fetched (matched or not).
   */
  stopAtSeen: boolean;
  /**
   * Hours back from now that are paged through on every crawl even when known: reviews edited or answered
   * by the brand lately are fetched again and updated. 0: stop at the first known page.
   */
  recheckHours?: number;
  /** Pages per stream per crawl: how far back a first crawl reaches, and the budget of each stream. */
  maxPages: number;
  fetchPage(target: z.infer<T>, cursor: string | null, deps: FetchDeps<z.infer<C>>): Promise<RawPage>;
  /** Pure: no clock, no env, no I/O; may be async only because some parsers (rss-parser) are. */
  parse(raw: RawPage, ctx: ParseContext): ParsedPage | Promise<ParsedPage>;
}
