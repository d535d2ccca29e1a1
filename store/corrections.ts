import { inTransaction, type Db } from './connect.ts';
import type { CorrectionField, SentimentLabel } from './schema.ts';

/** Labels a person may set; `unscored` is the model's "no opinion", never a judgement. */
export const CORRECTION_LABELS = ['negative', 'neutral', 'positive', 'mixed'] as const;
export type CorrectionLabel = (typeof CORRECTION_LABELS)[number];

export const HUMAN_MODEL = 'human';

// A person's label is certain: its score sits at the label's pole, so score and label never disagree.
const HUMAN_SCORE: Record<CorrectionLabel, number> = { negative: -1, neutral: 0, positive: 1, mixed: 0 };

export interface Correction {
  id: string;
  mentionId: string;
  brandId: number;
  field: CorrectionField;
  /** A label, or 'true'/'false' for `actionable`. */
  oldValue: string;
  newValue: string;
  actor: string;
  note: string | null;
  createdAt: Date;
}

export interface CorrectedMention {
  id: string;
  brandId: number;
  sentiment: SentimentLabel;
  sentimentScore: number | null;
  sentimentModel: string;
  sentimentConfidence: number | null;
  sentimentCorrected: boolean;
  actionable: boolean;
  actionableCorrected: boolean;
}

export interface CorrectionResult {
  correction: Correction;
  mention: CorrectedMention;
}

interface CorrectionInput {
  mentionId: string;
  actor: string;
  note?: string | null | undefined;
  now: Date;
}

/**
 * Sets a mention's label as a person decided, recording the old and new label. A label equal to the
 * current one is recorded too: a person confirming the model is a training signal. Null: no such mention.
 */
export async function correctSentiment(
  db: Db,
  input: CorrectionInput & { label: CorrectionLabel },
): Promise<CorrectionResult | null> {
  return inTransaction(db, async (trx) => {
    const before = await lockMention(trx, input.mentionId);
    if (!before) return null;
    const correction = await insertCorrection(trx, input, before.brand_id, 'sentiment', before.sentiment, input.label);
    const mention = await trx
      .updateTable('mentions')
      .set({
        sentiment: input.label,
        sentiment_score: HUMAN_SCORE[input.label],
        sentiment_model: HUMAN_MODEL,
        sentiment_confidence: 1,
        // The reason explained the model's label, which no longer stands.
        sentiment_reason: null,
        sentiment_corrected: true,
      })
      .where('id', '=', input.mentionId)
      .returning(CORRECTED_COLUMNS)
      .executeTakeFirstOrThrow();
    return { correction, mention: toCorrectedMention(mention) };
  });
}

/**
 * Sets whether a mention needs a reply, as a person decided. Opens or closes no ticket: opening one
 * needs the routing policy, which the caller has to bring (see the API route).
 */
export async function correctActionable(
  db: Db,
  input: CorrectionInput & { actionable: boolean },
): Promise<CorrectionResult | null> {
  return inTransaction(db, async (trx) => {
    const before = await lockMention(trx, input.mentionId);
    if (!before) return null;
    const correction = await insertCorrection(
      trx, input, before.brand_id, 'actionable', String(before.actionable), String(input.actionable),
    );
    const mention = await trx
      .updateTable('mentions')
      .set({ actionable: input.actionable, actionable_corrected: true })
      .where('id', '=', input.mentionId)
      .returning(CORRECTED_COLUMNS)
      .executeTakeFirstOrThrow();
    return { correction, mention: toCorrectedMention(mention) };
  });
}

export interface TrainingCorrection extends Correction {
  text: string;
  title: string | null;
  lang: string;
  rating: number | null;
}

/**
 * A brand's corrections of one field in id order, with the text the trainer learns from; `sinceId`
 * continues after the last one read. A mention corrected twice appears twice: the later row is the decision.
 */
export async function listCorrections(
  db: Db,
  filter: { brandId: number; field: CorrectionField; sinceId?: string | undefined },
): Promise<TrainingCorrection[]> {
  let query = db
    .selectFrom('mention_corrections as c')
    .innerJoin('mentions as m', 'm.id', 'c.mention_id')
    .select([...CORRECTION_COLUMNS, 'm.text', 'm.title', 'm.lang', 'm.rating'])
    .where('c.brand_id', '=', filter.brandId)
    .where('c.field', '=', filter.field)
    .orderBy('c.id', 'asc');
  if (filter.sinceId !== undefined) query = query.where('c.id', '>', filter.sinceId);
  const rows = await query.execute();
  return rows.map((row) => ({ ...toCorrection(row), text: row.text, title: row.title, lang: row.lang, rating: row.rating }));
}

/** One mention's corrections, newest first; null when the mention does not exist. */
export async function listMentionCorrections(db: Db, mentionId: string): Promise<Correction[] | null> {
  const mention = await db.selectFrom('mentions').select('id').where('id', '=', mentionId).executeTakeFirst();
  if (!mention) return null;
  const rows = await db
    .selectFrom('mention_corrections as c')
    .select(CORRECTION_COLUMNS)
    .where('c.mention_id', '=', mentionId)
    .orderBy('c.id', 'desc')
    .execute();
  return rows.map(toCorrection);
}

const CORRECTION_COLUMNS = [
  'c.id', 'c.mention_id', 'c.brand_id', 'c.field', 'c.old_value', 'c.new_value', 'c.actor', 'c.note', 'c.created_at',
] as const;

const CORRECTED_COLUMNS = [
  'id', 'brand_id', 'sentiment', 'sentiment_score', 'sentiment_model', 'sentiment_confidence', 'sentiment_corrected',
  'actionable', 'actionable_corrected',
] as const;

// Row lock: two people correcting one mention at once each record the value the other one left.
async function lockMention(trx: Db, mentionId: string) {
  return trx
    .selectFrom('mentions')
    .select(['brand_id', 'sentiment', 'actionable'])
    .where('id', '=', mentionId)
    .forUpdate()
    .executeTakeFirst();
}

async function insertCorrection(
  trx: Db,
  input: CorrectionInput,
  brandId: number,
  field: CorrectionField,
  oldValue: string,
  newValue: string,
): Promise<Correction> {
  const row = await trx
    .insertInto('mention_corrections')
    .values({
      mention_id: input.mentionId,
      brand_id: brandId,
      field,
      old_value: oldValue,
      new_value: newValue,
      actor: input.actor,
      note: input.note ?? null,
      created_at: input.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCorrection(row);
}

function toCorrection(row: {
  id: string; mention_id: string; brand_id: number; field: CorrectionField; old_value: string; new_value: string;
  actor: string; note: string | null; created_at: Date;
}): Correction {
  return {
    id: row.id,
    mentionId: row.mention_id,
    brandId: row.brand_id,
    field: row.field,
    oldValue: row.old_value,
    newValue: row.new_value,
    actor: row.actor,
    note: row.note,
    createdAt: row.created_at,
  };
}

function toCorrectedMention(row: {
  id: string; brand_id: number; sentiment: SentimentLabel; sentiment_score: number | null; sentiment_model: string;
  sentiment_confidence: number | null; sentiment_corrected: boolean; actionable: boolean; actionable_corrected: boolean;
}): CorrectedMention {
  return {
    id: row.id,
    brandId: row.brand_id,
    sentiment: row.sentiment,
    sentimentScore: row.sentiment_score,
    sentimentModel: row.sentiment_model,
    sentimentConfidence: row.sentiment_confidence,
    sentimentCorrected: row.sentiment_corrected,
    actionable: row.actionable,
    actionableCorrected: row.actionable_corrected,
  };
}
