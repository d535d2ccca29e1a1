import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { SentimentModel } from './schema.ts';

export interface NewSentimentModel {
  brandId: number;
  lang: string;
  weights: Uint8Array;
  /** How many corrections trained it. */
  corrections: number;
  devBefore: number;
  devAfter: number;
  createdAt: Date;
}

/**
 * Stores a trained model as the next version for its brand and language and returns the row.
 * The version is computed in the insert itself; two trainers racing on one brand+lang hit the
 * unique constraint rather than sharing a version.
 */
export async function saveSentimentModel(db: Db, model: NewSentimentModel): Promise<SentimentModel> {
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
      dev_before: model.devBefore,
      dev_after: model.devAfter,
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
