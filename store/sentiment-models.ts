import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { SentimentMeasuredOn, SentimentModel } from './schema.ts';

/** A model's scores on a set of labelled texts. */
export interface ModelScore {
  accuracy: number;
  macroF1: number;
}

/** What a model was measured at when it was accepted, beside the model live then on the same texts. */
export interface ModelMeasurement extends ModelScore {
  on: SentimentMeasuredOn;
  size: number;
  live: (ModelScore & { model: string }) | null;
}

export interface NewSentimentModel {
  brandId: number;
  lang: string;
  /** As mentions will name it, e.g. `ru-v1+b3.2`. */
  name: string;
  weights: Uint8Array;
  /** How many corrections trained it. */
  corrections: number;
  /** Null: saved unmeasured (`--force` with nothing held out). */
  measured: ModelMeasurement | null;
  /** Macro-F1 on a dev file the user gave, of the live model and of this one; null: none given. */
  dev: { before: number; after: number } | null;
  createdAt: Date;
}

/**
 * Stores a trained model as the next version for its brand and language and returns the row.
 * The version is computed in the insert itself; two trainers racing on one brand+lang hit the
 * unique constraint rather than sharing a version.
 */
export async function saveSentimentModel(db: Db, model: NewSentimentModel): Promise<SentimentModel> {
  const { measured } = model;
  return db
    .insertInto('sentiment_models')
    .values((eb) => ({
      brand_id: model.brandId,
      lang: model.lang,
      version: eb
        .selectFrom('sentiment_models')
        .select(sql<number>`coalesce(max(version), 0) + 1`.as('next'))
        .where('brand_id', '=', model.brandId)
        .where('lang', '=', model.lang),
      weights: model.weights,
      corrections: model.corrections,
      dev_before: model.dev?.before ?? null,
      dev_after: model.dev?.after ?? null,
      model_name: model.name,
      measured_on: measured?.on ?? null,
      measured_size: measured?.size ?? null,
      measured_accuracy: measured?.accuracy ?? null,
      measured_macro_f1: measured?.macroF1 ?? null,
      live_model: measured?.live?.model ?? null,
      live_accuracy: measured?.live?.accuracy ?? null,
      live_macro_f1: measured?.live?.macroF1 ?? null,
      created_at: model.createdAt,
    }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A brand's newest version per language: what its crawls score with. */
export async function latestBrandSentimentModels(db: Db, brandId: number): Promise<SentimentModel[]> {
  return db
    .selectFrom('sentiment_models')
    .selectAll()
    .where('brand_id', '=', brandId)
    .distinctOn(['lang'])
    .orderBy('lang')
    .orderBy('version', 'desc')
    .execute();
}

/** A brand's model live for a language, without its weights. */
export interface LiveSentimentModel {
  id: string;
  brandId: number;
  brand: string;
  lang: string;
  version: number;
  /** Null on models saved before names were kept. */
  name: string | null;
  corrections: number;
  measured: ModelMeasurement | null;
  createdAt: Date;
}

/** Every brand's newest model per language, by brand name and language. */
export async function listLiveSentimentModels(db: Db): Promise<LiveSentimentModel[]> {
  const rows = await db
    .selectFrom('sentiment_models as s')
    .innerJoin('brands as b', 'b.id', 's.brand_id')
    .select([
      's.id', 's.brand_id', 'b.name as brand', 's.lang', 's.version', 's.model_name', 's.corrections', 's.measured_on',
      's.measured_size', 's.measured_accuracy', 's.measured_macro_f1', 's.live_model', 's.live_accuracy', 's.live_macro_f1',
      's.created_at',
    ])
    .distinctOn(['s.brand_id', 's.lang'])
    .orderBy('s.brand_id')
    .orderBy('s.lang')
    .orderBy('s.version', 'desc')
    .execute();
  return rows
    .map((row) => ({
      id: row.id,
      brandId: row.brand_id,
      brand: row.brand,
      lang: row.lang,
      version: row.version,
      name: row.model_name,
      corrections: row.corrections,
      measured:
        row.measured_on === null
          ? null
          : {
              on: row.measured_on,
              size: row.measured_size!,
              accuracy: row.measured_accuracy!,
              macroF1: row.measured_macro_f1!,
              live: row.live_accuracy === null
                ? null
                : { model: row.live_model!, accuracy: row.live_accuracy, macroF1: row.live_macro_f1! },
            },
      createdAt: row.created_at,
    }))
    .sort((a, b) => (a.brand === b.brand ? (a.lang < b.lang ? -1 : 1) : a.brand < b.brand ? -1 : 1));
}
