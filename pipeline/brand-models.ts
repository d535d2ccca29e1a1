import { loadBaseModels, type SentimentModels } from '../sentiment/analyze.ts';
import type { Lang } from '../sentiment/language.ts';
import { deserializeModel, type LinearModel } from '../sentiment/model.ts';
import type { Db } from '../store/connect.ts';
import { latestBrandSentimentModels } from '../store/sentiment-models.ts';

/** Each brand's sentiment models: the shipped ones with the brand's accepted adaptations in their place. */
export interface BrandModels {
  forBrand(db: Db, brandId: number): Promise<SentimentModels>;
}

/**
 * A crawl asks for its brands' models each time; each stored version is decoded once for the life of the
 * returned object (the process's composition root keeps one).
 */
export function createBrandModels(): BrandModels {
  const decoded = new Map<string, LinearModel>();
  return {
    async forBrand(db, brandId) {
      const rows = await latestBrandSentimentModels(db, brandId);
      if (rows.length === 0) return loadBaseModels();
      const models = new Map<Lang, LinearModel>(loadBaseModels());
      for (const row of rows) {
        let model = decoded.get(row.id);
        if (model === undefined) {
          model = deserializeModel(row.weights, `sentiment_models #${row.id}`);
          decoded.set(row.id, model);
        }
        models.set(model.lang, model);
      }
      return models;
    },
  };
}
