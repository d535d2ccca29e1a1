import { loadBaseModels, type SentimentModels } from '../sentiment/analyze.ts';
import type { Lang } from '../sentiment/language.ts';
import { deserializeModel, type LinearModel } from '../sentiment/model.ts';
import type { Db } from '../store/connect.ts';
import { latestBrandSentimentModels } from '../store/sentiment-models.ts';

// Decoded models by row id: a crawl asks for its brand's models each time, but decodes a version once.
const decoded = new Map<string, LinearModel>();

/** The shipped models, with the brand's latest accepted adaptation in place of each language it has. */
export async function brandSentimentModels(db: Db, brandId: number): Promise<SentimentModels> {
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
}
