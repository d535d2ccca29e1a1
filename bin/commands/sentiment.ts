import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assessActionability } from '../../sentiment/actionable.ts';
import { analyzeSentiment, loadBaseModels, MODEL_LANGS, predictText, type ModelLang } from '../../sentiment/analyze.ts';
import { evaluateRows, scoreLabels } from '../../sentiment/eval.ts';
import { readLabelledJsonl, type LabelledText } from '../../sentiment/labelled.ts';
import type { Lang } from '../../sentiment/language.ts';
import { deserializeModel, serializeModel, type LinearModel } from '../../sentiment/model.ts';
import { adaptModel } from '../../sentiment/train/adapt.ts';
import { sentimentDataDir } from '../../sentiment/train/fit.ts';
import { TEXT_CLASSES, type TextClass } from '../../sentiment/types.ts';
import { findBrand, listBrands, type BrandRow } from '../../store/brands.ts';
import { joinTitle } from '../../pipeline/cluster.ts';
import { listCorrections, type TrainingCorrection } from '../../store/corrections.ts';
import { latestBrandSentimentModels, saveSentimentModel } from '../../store/sentiment-models.ts';
import { callerPath, type CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

function langOption(value: string | undefined): Lang | undefined {
  if (value === undefined) return undefined;
  if (!(MODEL_LANGS as readonly string[]).includes(value)) {
    throw new UsageError(`--lang: use one of ${MODEL_LANGS.join(', ')} (got "${value}")`);
  }
  return value as Lang;
}

/** `earshot sentiment "text" [--lang xx] [--rating N]`: one JSON object with the sentiment and whether it needs a reply. */
export function commandSentiment(args: string[], ctx: CommandContext): number {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, options: { lang: { type: 'string' }, rating: { type: 'string' } },
  });
  const text = positionals.join(' ');
  if (text.trim() === '') throw new UsageError('sentiment needs a text: earshot sentiment "текст отзыва"');
  let rating: number | null = null;
  if (values.rating !== undefined) {
    rating = Number(values.rating);
    if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new UsageError(`--rating: a whole number of stars 1..5 (got "${values.rating}")`);
  }
  const lang = langOption(values.lang);
  const result = analyzeSentiment({ text, rating, ...(lang ? { lang } : {}) });
  const action = assessActionability({ text, lang: result.lang, sentiment: result, rating, ownPost: false, answered: false });
  ctx.io.out(`${JSON.stringify({ ...result, actionable: action.actionable, action_reasons: action.reasons, excluded_by: action.excludedBy })}\n`);
  return 0;
}

/**
 * `earshot eval-sentiment FILE.jsonl [--lang xx]`: one JSON line with n, macro_f1 (over the classes in the
 * gold labels), accuracy, per_class and texts_per_s. Without --lang each text's language is detected.
 */
export function commandEvalSentiment(args: string[], ctx: CommandContext): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { lang: { type: 'string' } } });
  const [file] = positionals;
  if (file === undefined) throw new UsageError('eval-sentiment needs a file: earshot eval-sentiment FILE.jsonl [--lang xx]');
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  const lang = langOption(values.lang);
  let rows;
  try {
    rows = readLabelledJsonl(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (rows.length === 0) throw new UsageError(`${file}: no lines with text and label`);
  // Models load before the clock starts: texts_per_s is the classification alone.
  loadBaseModels();
  const score = evaluateRows(rows, (text) => analyzeSentiment({ text, ...(lang ? { lang } : {}) }).label);
  ctx.io.out(`${JSON.stringify(score)}\n`);
  return 0;
}

// Fewer corrections than this teach the model noise; the trainer waits for more.
const MIN_CORRECTIONS = 5;
// With this many, every fifth (by mention id) is held out to check the brand's own gain.
const HOLD_OUT_FROM = 10;

/**
 * `earshot train --from-corrections [--brand NAME] [--dry-run]`: adapts each brand's model per language to
 * the labels people set, prints the dev-split macro-F1 before (the model in use) and after, and keeps the
 * new model only when neither the dev split nor the brand's held-out corrections get worse.
 */
export async function commandTrain(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'from-corrections': { type: 'boolean', default: false }, brand: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
  });
  if (!values['from-corrections']) {
    throw new UsageError('train needs --from-corrections (the shipped models are trained with npm run train:sentiment)');
  }
  const dataDir = ctx.env.EARSHOT_SENTIMENT_DATA;
  const devDir = sentimentDataDir(dataDir === undefined ? {} : { EARSHOT_SENTIMENT_DATA: callerPath(ctx, dataDir) });
  const store = await ctx.runtime.store();
  const brands = values.brand === undefined ? await listBrands(store.db) : [await findBrand(store.db, values.brand)];
  if (brands[0] === undefined) throw new UsageError(`unknown brand "${values.brand}"`);
  for (const brand of brands as BrandRow[]) {
    const byLang = correctionsByLang(await listCorrections(store.db, { brandId: brand.id, field: 'sentiment' }));
    const inUse = await ctx.runtime.models.forBrand(store.db, brand.id);
    const versions = new Map((await latestBrandSentimentModels(store.db, brand.id)).map((m) => [m.lang, m.version]));
    for (const [lang, rows] of byLang) {
      const line = await trainBrandLang({ brand, lang, rows, inUse: inUse.get(lang)!, devDir, version: (versions.get(lang) ?? 0) + 1 });
      if (line.decision === 'accepted' && !values['dry-run']) {
        const { weights, ...rest } = line;
        const saved = await saveSentimentModel(store.db, {
          brandId: brand.id, lang, weights, corrections: rest.corrections, devBefore: rest.dev.before, devAfter: rest.dev.after, createdAt: ctx.now(),
        });
        ctx.io.out(`${JSON.stringify({ ...rest, decision: 'saved', version: saved.version })}\n`);
      } else {
        const { weights: _weights, ...rest } = line;
        ctx.io.out(`${JSON.stringify({ ...rest, ...(line.decision === 'accepted' ? { decision: 'dry-run' } : {}) })}\n`);
      }
    }
    if (byLang.size === 0) ctx.io.out(`${JSON.stringify({ brand: brand.name, decision: 'skipped', reason: 'no sentiment corrections' })}\n`);
  }
  return 0;
}

interface CorrectedText extends LabelledText {
  mentionId: string;
}

/** The latest decision per mention, grouped by the mention's language; `mixed` has no text class to learn. */
function correctionsByLang(corrections: readonly TrainingCorrection[]): Map<ModelLang, CorrectedText[]> {
  const latest = new Map<string, TrainingCorrection>();
  for (const c of corrections) latest.set(c.mentionId, c);
  const byLang = new Map<ModelLang, CorrectedText[]>();
  for (const c of latest.values()) {
    const label = c.newValue;
    if (!(MODEL_LANGS as readonly string[]).includes(c.lang) || !(TEXT_CLASSES as readonly string[]).includes(label)) continue;
    const lang = c.lang as ModelLang;
    const text = joinTitle(c.title, c.text);
    if (!byLang.has(lang)) byLang.set(lang, []);
    byLang.get(lang)!.push({ text, label: label as TextClass, line: 0, mentionId: c.mentionId });
  }
  return byLang;
}

async function trainBrandLang(input: {
  brand: BrandRow;
  lang: ModelLang;
  rows: CorrectedText[];
  inUse: LinearModel;
  devDir: string;
  version: number;
}) {
  const { brand, lang, rows, inUse } = input;
  const base = loadBaseModels().get(lang)!;
  const heldOut = rows.length >= HOLD_OUT_FROM ? rows.filter((r) => BigInt(r.mentionId) % 5n === 0n) : [];
  const train = rows.filter((r) => !heldOut.includes(r));
  const common = { brand: brand.name, lang, corrections: rows.length, trained_on: train.length, held_out: heldOut.length };
  if (train.length < MIN_CORRECTIONS) {
    return { ...common, decision: 'skipped' as const, reason: `${train.length} corrections to learn from, need ${MIN_CORRECTIONS}`, weights: new Uint8Array(), dev: { before: 0, after: 0 } };
  }
  const adapted = adaptModel(base, train, `${base.name}+b${brand.id}.${input.version}`);
  const devFile = join(input.devDir, `dev-${lang}.jsonl`);
  const dev = readLabelledJsonl(devFile);
  const f1 = (model: LinearModel, set: readonly LabelledText[]) =>
    scoreLabels(set.map((r) => r.label), set.map((r) => predictText(r.text, model).label));
  // Scored as it would be stored: quantized and read back.
  const weights = serializeModel(adapted);
  const stored = deserializeModel(weights, adapted.name);
  const before = f1(inUse, dev).macro_f1;
  const after = f1(stored, dev).macro_f1;
  const heldBefore = heldOut.length > 0 ? f1(inUse, heldOut).accuracy : null;
  const heldAfter = heldOut.length > 0 ? f1(stored, heldOut).accuracy : null;
  const worseDev = after < before;
  const worseHeld = heldBefore !== null && heldAfter !== null && heldAfter < heldBefore;
  return {
    ...common,
    model: { before: inUse.name, after: stored.name },
    dev: { file: devFile, n: dev.length, before, after },
    held_out_accuracy: { before: heldBefore, after: heldAfter },
    decision: worseDev || worseHeld ? ('refused' as const) : ('accepted' as const),
    ...(worseDev || worseHeld
      ? { reason: worseDev ? `dev macro-F1 would fall from ${before} to ${after}` : `held-out corrections accuracy would fall from ${heldBefore} to ${heldAfter}` }
      : {}),
    weights,
  };
}
