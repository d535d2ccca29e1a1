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
}

/** One fetched response, decoded to text, plus the cursor it was fetched with. */
export interface RawPage {
  url: string;
  status: number;
  contentType: string | null;
  body: string;
  cursor: string | null;
}

export interface ParseContext {
  /** When the page was fetched; parse never reads the clock itself. */
  fetchedAt: Date;
}

export interface ParsedPage {
  mentions: MentionDraft[];
  /** Cursor for the next (older) page, or null when this was the last one. */
  nextCursor: string | null;
}

export interface FetchDeps {
  http: HttpClient;
  signal?: AbortSignal;
}

export interface Crawler<T extends z.ZodType = z.ZodType> {
  id: string;
  name: string;
  /** zod schema of the target parameters in config (`targets[].params`). */
  target: T;
  defaultSchedule: string;
  rateLimit: { perHostPerSecond: number };
  expectedQuietDays: number;
  /**
   * False for sources whose items are about the target itself (reviews of the brand's own app or branch):
   * every item is kept. True for searches and feeds, where only keyword matches are kept.
   */
  matchKeywords: boolean;
  /** Newest-first sources stop paging at the first page holding an id a completed crawl already stored. */
  stopAtSeen: boolean;
  maxPages: number;
  fetchPage(target: z.infer<T>, cursor: string | null, deps: FetchDeps): Promise<RawPage>;
  /** Pure: no clock, no env, no I/O; may be async only because some parsers (rss-parser) are. */
  parse(raw: RawPage, ctx: ParseContext): ParsedPage | Promise<ParsedPage>;
}
