import { z } from 'zod';
import type { MentionDetails } from '../crawlers/types.ts';
import type { Db } from '../store/connect.ts';
import { getMentions, type MentionListItem } from '../store/mention-list.ts';
import {
  actionReasonsSchema, authorSchema, formatAuthor, formatSentiment, formatTimestamp, nullableTimestampSchema, sentimentSchema,
  timestampSchema,
} from './fields.ts';

/** A mention as everyone outside sees it: the API, helpdesk and channel payloads, `earshot … --json`. */
export const mentionDocument = z.object({
  id: z.string(),
  source: z.string(),
  external_id: z.string(),
  brand: z.string().describe('The brand it was first stored for: its story, ticket and sentiment model are that brand\'s'),
  brands: z.array(z.string()).describe('Every brand it names; ?brand= finds it under each'),
  target_id: z.string().nullable(),
  url: z.string().nullable(),
  author: authorSchema,
  title: z.string().nullable(),
  text: z.string(),
  rating: z.number().int().nullable(),
  published_at: nullableTimestampSchema,
  first_seen_at: timestampSchema,
  updated_at: timestampSchema,
  lang: z.string(),
  sentiment: sentimentSchema,
  actionable: z.boolean(),
  action_reasons: actionReasonsSchema,
  cluster: z
    .object({
      id: z.string(),
      size: z.number().int().describe('How many mentions tell this story, across sources'),
      representative_id: z.string().describe('The first mention of the story'),
    })
    .nullable()
    .describe('The story (near-duplicate cluster) of this mention; list it with ?cluster=ID'),
  corrected: z
    .object({ sentiment: z.boolean(), actionable: z.boolean() })
    .describe('A person set this value; re-crawls keep it'),
  metrics: z.record(z.string(), z.number()),
  reply: z
    .object({ text: z.string(), at: z.string().nullable() })
    .nullable()
    .describe("The brand's own answer on the source (2GIS official answer, store developer reply)"),
  answered: z.boolean().describe('The brand has answered on the source; an answered mention opens no ticket'),
  details: z
    .object({
      verified: z.boolean().optional(),
      links: z.array(z.string()).optional(),
      forwarded_from: z.object({ name: z.string().nullable(), url: z.string().nullable() }).optional(),
      signature: z.string().optional(),
      version: z.string().optional(),
      place: z.string().optional(),
      sponsored: z.boolean().optional(),
    })
    .describe('What the source tells beyond the common fields; keys appear only when the source has them'),
});

export type MentionDocument = z.output<typeof mentionDocument>;

export function formatMention(m: MentionListItem): MentionDocument {
  return {
    id: m.id,
    source: m.source,
    external_id: m.externalId,
    brand: m.brand,
    brands: m.brands,
    target_id: m.targetId,
    url: m.url,
    author: formatAuthor(m.author),
    title: m.title,
    text: m.text,
    rating: m.rating,
    published_at: formatTimestamp(m.publishedAt),
    first_seen_at: formatTimestamp(m.firstSeenAt),
    updated_at: formatTimestamp(m.updatedAt),
    lang: m.lang,
    sentiment: formatSentiment(m.sentiment),
    actionable: m.actionable,
    action_reasons: m.actionReasons,
    cluster: m.cluster === null ? null : { id: m.cluster.id, size: m.cluster.size, representative_id: m.cluster.representativeId },
    corrected: { sentiment: m.sentimentCorrected, actionable: m.actionableCorrected },
    metrics: Object.fromEntries(Object.entries(m.metrics ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number')),
    reply: m.reply ?? null,
    answered: m.reply !== null && m.reply !== undefined,
    details: formatDetails(m.details),
  };
}

function formatDetails(d: MentionDetails): MentionDocument['details'] {
  const { forwardedFrom, ...rest } = d;
  return forwardedFrom ? { ...rest, forwarded_from: forwardedFrom } : rest;
}

/** The documents of stored mentions, by id. */
export async function loadMentionDocuments(db: Db, ids: readonly string[]): Promise<Map<string, MentionDocument>> {
  const found = await getMentions(db, ids);
  return new Map([...found].map(([id, m]) => [id, formatMention(m)]));
}
