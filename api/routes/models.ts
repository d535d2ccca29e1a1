import { z } from 'zod';
import { MODEL_LANGS } from '../../sentiment/analyze.ts';
import { readModelManifest } from '../../sentiment/train/manifest.ts';
import { formatTimestamp, nullableTimestampSchema } from '../../documents/fields.ts';
import { listLiveSentimentModels, type LiveSentimentModel, type ModelMeasurement } from '../../store/sentiment-models.ts';
import { describeProblems } from '../errors.ts';
import { apiSchemaRegistry } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const scoreFields = {
  accuracy: z.number().describe('Share of the texts labelled as people labelled them, 0..1'),
  macro_f1: z.number().describe('F1 averaged over the classes in the labels, 0..1'),
};

const sentimentModelSchema = z
  .object({
    brand: z.string().nullable().describe("The brand whose mentions it scores; null: the shipped base model, for every brand without its own"),
    lang: z.string().describe('Language of the texts it scores (ru, kk, uz, en)'),
    version: z.string().describe("Its name, as mentions' sentiment.model carries it: ru-v1, or ru-v1+b3.2 for brand 3's second adaptation"),
    kind: z.enum(['base', 'adapted']).describe('base: shipped with earshot; adapted: trained on the brand\'s corrections by earshot train --from-corrections'),
    trained_at: nullableTimestampSchema.describe('When an adapted model was trained; null for a base model'),
    corrections_used: z.number().int().nullable().describe('Corrections an adapted model learned from (its held-out ones not counted); null for a base model'),
    measured: z
      .object({
        on: z
          .enum(['held_out_corrections', 'dev_file'])
          .describe("held_out_corrections: the brand's corrections kept out of training; dev_file: a labelled file (for a base model, the developers' dev split)"),
        size: z.number().int().describe('How many labelled texts it was measured on'),
        ...scoreFields,
        live_before: z
          .object(scoreFields)
          .nullable()
          .describe('The model live before it, measured on the same texts when this one replaced it; null for a base model'),
      })
      .nullable()
      .describe('What it scored when it was accepted; null: not measured (saved with --force and nothing held out, or before measurements were kept)'),
  })
  .register(apiSchemaRegistry, { id: 'SentimentModel' });

export function registerModelRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/models',
    {
      schema: {
        operationId: 'listModels',
        summary: 'The sentiment model live for each brand and language',
        description:
          'The shipped base model of each language (brand null), then every brand\'s adapted model per language, by brand ' +
          'name and language. A brand and language with no adapted model is scored by the base model.',
        tags: ['models'],
        response: { 200: z.object({ data: z.array(sentimentModelSchema) }), ...describeProblems(401, 403, 500) },
      },
    },
    async () => {
      const manifest = readModelManifest();
      const base = MODEL_LANGS.flatMap((lang) => {
        const entry = manifest.get(lang);
        return entry === undefined ? [] : [baseModel(lang, entry.model, entry.dev[0]!)];
      });
      const adapted = (await listLiveSentimentModels(deps.db)).map(adaptedModel);
      return { data: [...base, ...adapted] };
    },
  );
}

type SentimentModelDocument = z.output<typeof sentimentModelSchema>;

function baseModel(lang: string, name: string, dev: { n: number; accuracy: number; macro_f1: number }): SentimentModelDocument {
  return {
    brand: null, lang, version: name, kind: 'base', trained_at: null, corrections_used: null,
    measured: { on: 'dev_file', size: dev.n, accuracy: dev.accuracy, macro_f1: dev.macro_f1, live_before: null },
  };
}

function adaptedModel(m: LiveSentimentModel): SentimentModelDocument {
  return {
    brand: m.brand,
    lang: m.lang,
    // Models saved before names were kept: their row, which is as stable.
    version: m.name ?? `sentiment_models#${m.id}`,
    kind: 'adapted',
    trained_at: formatTimestamp(m.createdAt),
    corrections_used: m.corrections,
    measured: m.measured === null ? null : formatMeasurement(m.measured),
  };
}

function formatMeasurement(m: ModelMeasurement): NonNullable<SentimentModelDocument['measured']> {
  return {
    on: m.on, size: m.size, accuracy: m.accuracy, macro_f1: m.macroF1,
    live_before: m.live === null ? null : { accuracy: m.live.accuracy, macro_f1: m.live.macroF1 },
  };
}
