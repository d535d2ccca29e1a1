import { z } from 'zod';
import type { MentionAuthor } from '../crawlers/types.ts';
import { ACTION_REASONS, LOW_CONFIDENCE_BELOW, SENTIMENT_LABELS } from '../sentiment/types.ts';
import type { StoredSentiment } from '../store/mention-list.ts';

// The fields the documents share. The API names them in its OpenAPI components (api/schemas.ts).


export const timestampSchema = z.iso.datetime();
export const nullableTimestampSchema = timestampSchema.nullable();

export const sentimentSchema = z.object({
  label: z.enum(SENTIMENT_LABELS),
  score: z.number().nullable(),
  model: z.string(),
  confidence: z
    .number()
    .nullable()
    .describe("0..1, the probability the model gives its label; 1 for a person's label; null when not known"),
  low_confidence: z.boolean().describe(`confidence below ${LOW_CONFIDENCE_BELOW}: the label is a weak guess`),
  reason: z.string().nullable().describe('Why the label is mixed: the star rating and the text disagree'),
});

export const actionReasonsSchema = z
  .array(z.enum(ACTION_REASONS))
  .describe('Why the mention needs a reply, strongest first');

export const authorSchema = z.object({
  name: z.string().nullable(),
  handle: z.string().nullable(),
  id: z.string().nullable(),
  url: z.string().nullable(),
  followers: z.number().nullable(),
});

export function formatTimestamp(value: Date): string;
export function formatTimestamp(value: Date | null): string | null;
export function formatTimestamp(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

/** jsonb authors vary by source; a document always shows every field, null when the source did not say. */
export function formatAuthor(author: Partial<MentionAuthor> | null): z.output<typeof authorSchema> {
  return {
    name: author?.name ?? null,
    handle: author?.handle ?? null,
    id: author?.id ?? null,
    url: author?.url ?? null,
    followers: author?.followers ?? null,
  };
}

export function formatSentiment(s: StoredSentiment): z.output<typeof sentimentSchema> {
  const low = s.label === 'unscored' || (s.confidence !== null && s.confidence < LOW_CONFIDENCE_BELOW);
  return { label: s.label, score: s.score, model: s.model, confidence: s.confidence, low_confidence: low, reason: s.reason };
}
