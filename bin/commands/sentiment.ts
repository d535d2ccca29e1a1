import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { assessActionability } from '../../sentiment/actionable.ts';
import { analyzeSentiment, loadBaseModels, MODEL_LANGS, type ModelLang } from '../../sentiment/analyze.ts';
import { evaluateRows } from '../../sentiment/eval.ts';
import { readLabelledJsonl, type LabelledText } from '../../sentiment/labelled.ts';
import { detectLanguage, type Lang } from '../../sentiment/language.ts';
import { deserializeModel, serializeModel, type LinearModel } from '../../sentiment/model.ts';
import { adaptModel } from '../../sentiment/train/adapt.ts';
import { compareModels, judgeCandidate, MIN_TRAINING, splitHeldOut, type Measure } from '../../sentiment/train/judge.ts';
import { TEXT_CLASSES, type TextClass } from '../../sentiment/types.ts';
import { findBrand, listBrands, type BrandRow } from '../../store/brands.ts';
import { joinTitle } from '../../pipeline/cluster.ts';
import { listCorrections, type TrainingCorrection } from '../../store/corrections.ts';
import {
  latestBrandSentimentModels, saveSentimentModel, type ModelMeasurement, type NewSentimentModel,
} from '../../store/sentiment-models.ts';
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
 * gold labels), accuracy, per_class, confusion, by_kind (posts, reviews by their text, reviews with their
 * stars) and texts_per_s. Without --lang each text's language is detected.
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
  const score = evaluateRows(rows, (text, kind, rating) => analyzeSentiment({ text, kind, rating, ...(lang ? { lang } : {}) }).label);
  ctx.io.out(`${JSON.stringify(score)}\n`);
  return 0;
}

/**
 * `earshot train --from-corrections [--brand NAME] [--dev FILE.jsonl]… [--force] [--dry-run]`: adapts each
 * brand's model per language to the labels people set, and replaces the model live now (the brand's adapted
 * one, else the shipped one) only as `judgeCandidate` allows: no worse on the brand's own held-out corrections,
 * nor on a dev file when one is given. It reads the store and the files it is given, nothing else.
 */
export async function commandTrain(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'from-corrections': { type: 'boolean', default: false },
      brand: { type: 'string' },
      dev: { type: 'string', multiple: true },
      force: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (!values['from-corrections']) {
    throw new UsageError('train needs --from-corrections (the shipped models are trained with npm run train:sentiment)');
  }
  const devFiles = readDevFiles(ctx, values.dev ?? []);
  const store = await ctx.runtime.store();
  const brands = values.brand === undefined ? await listBrands(store.db) : [await findBrand(store.db, values.brand)];
  if (brands[0] === undefined) throw new UsageError(`unknown brand "${values.brand}"`);
  for (const brand of brands as BrandRow[]) {
    const byLang = correctionsByLang(await listCorrections(store.db, { brandId: brand.id, field: 'sentiment' }));
    const live = await ctx.runtime.models.forBrand(store.db, brand.id);
    const versions = new Map((await latestBrandSentimentModels(store.db, brand.id)).map((m) => [m.lang, m.version]));
    for (const [lang, rows] of byLang) {
      const result = trainBrandLang({
        brand, lang, rows, live: live.get(lang)!, dev: devFiles.get(lang) ?? null, force: values.force, version: (versions.get(lang) ?? 0) + 1,
      });
      if (result.save === null) {
        ctx.io.out(`${JSON.stringify(result.line)}\n`);
      } else if (values['dry-run']) {
        ctx.io.out(`${JSON.stringify({ ...result.line, decision: 'dry-run' })}\n`);
      } else {
        const saved = await saveSentimentModel(store.db, { brandId: brand.id, lang, ...result.save, createdAt: ctx.now() });
        ctx.io.out(`${JSON.stringify({ ...result.line, decision: 'saved', version: saved.version })}\n`);
      }
    }
    if (byLang.size === 0) ctx.io.out(`${JSON.stringify({ brand: brand.name, decision: 'skipped', reason: 'no sentiment corrections' })}\n`);
  }
  return 0;
}

interface DevFile {
  /** As the caller gave it. */
  file: string;
  rows: LabelledText[];
}

/** `--dev` files by language: the `<lang>` of a `dev-<lang>.jsonl` name, else the language most of its texts are in. */
function readDevFiles(ctx: CommandContext, files: readonly string[]): Map<ModelLang, DevFile> {
  const byLang = new Map<ModelLang, DevFile>();
  for (const file of files) {
    const path = callerPath(ctx, file);
    if (!existsSync(path)) throw new UsageError(`--dev ${file}: no such file`);
    let rows: LabelledText[];
    try {
      rows = readLabelledJsonl(path);
    } catch (err) {
      throw new UsageError(`--dev ${(err as Error).message}`);
    }
    if (rows.length === 0) throw new UsageError(`--dev ${file}: no lines with text and label`);
    const lang = devLangOf(file, rows);
    const other = byLang.get(lang);
    if (other !== undefined) throw new UsageError(`--dev: ${other.file} and ${file} are both ${lang}; give one file per language`);
    byLang.set(lang, { file, rows });
  }
  return byLang;
}

function devLangOf(file: string, rows: readonly LabelledText[]): ModelLang {
  const named = /^dev-([a-z]+)\.jsonl$/.exec(basename(file))?.[1];
  if (named !== undefined && (MODEL_LANGS as readonly string[]).includes(named)) return named as ModelLang;
  const counts = new Map<Lang, number>();
  for (const row of rows) {
    const lang = detectLanguage(row.text);
    counts.set(lang, (counts.get(lang) ?? 0) + 1);
  }
  const [top] = [...counts].sort((a, b) => b[1] - a[1]);
  if (top === undefined || !(MODEL_LANGS as readonly string[]).includes(top[0])) {
    throw new UsageError(`--dev ${file}: most of its texts are not in ${MODEL_LANGS.join(', ')}; name it dev-<lang>.jsonl`);
  }
  return top[0] as ModelLang;
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

const scores = (m: Measure) => ({ accuracy: m.accuracy, macro_f1: m.macro_f1 });
const toScore = (m: Measure) => ({ accuracy: m.accuracy, macroF1: m.macro_f1 });

/** One brand and language: the printed line, and what to save when the candidate is accepted. */
function trainBrandLang(input: {
  brand: BrandRow;
  lang: ModelLang;
  rows: CorrectedText[];
  live: LinearModel;
  dev: DevFile | null;
  force: boolean;
  version: number;
}): { line: Record<string, unknown>; save: Omit<NewSentimentModel, 'brandId' | 'lang' | 'createdAt'> | null } {
  const { brand, lang, rows, live } = input;
  const { train, heldOut } = splitHeldOut(rows, (r) => r.mentionId);
  const common = { brand: brand.name, lang, corrections: rows.length, trained_on: train.length };
  if (train.length < MIN_TRAINING) {
    return {
      line: {
        ...common, held_out: { n: heldOut.length, live: null, candidate: null },
        decision: 'skipped', reason: `${train.length} corrections to learn from, need ${MIN_TRAINING}`,
      },
      save: null,
    };
  }
  const base = loadBaseModels().get(lang)!;
  const adapted = adaptModel(base, train, `${base.name}+b${brand.id}.${input.version}`);
  // Judged as it would be stored: quantized and read back.
  const weights = serializeModel(adapted);
  const candidate = deserializeModel(weights, adapted.name);
  const held = compareModels(live, candidate, heldOut);
  const dev = input.dev === null ? null : { file: input.dev.file, ...compareModels(live, candidate, input.dev.rows) };
  const verdict = judgeCandidate({ liveModel: live.name, heldOut: held, dev, force: input.force });
  const line = {
    ...common,
    model: { live: live.name, candidate: candidate.name },
    held_out: { n: held.n, live: held.n === 0 ? null : scores(held.live), candidate: held.n === 0 ? null : scores(held.candidate) },
    ...(dev === null ? {} : { dev: { file: dev.file, n: dev.n, live: scores(dev.live), candidate: scores(dev.candidate) } }),
    judged_on: verdict.accept ? verdict.judgedOn : null,
    decision: verdict.accept ? 'accepted' : 'refused',
    ...(verdict.accept && verdict.forced ? { forced: true } : {}),
    ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
  };
  if (!verdict.accept) return { line, save: null };
  const evidence = verdict.judgedOn === 'dev_file' ? dev! : verdict.judgedOn === null && held.n === 0 ? null : held;
  const measured: ModelMeasurement | null = evidence === null ? null : {
    on: verdict.judgedOn === 'dev_file' ? 'dev_file' : 'held_out_corrections',
    size: evidence.n,
    ...toScore(evidence.candidate),
    live: { model: live.name, ...toScore(evidence.live) },
  };
  return {
    line,
    save: {
      name: candidate.name, weights, corrections: train.length, measured,
      dev: dev === null ? null : { before: dev.live.macro_f1, after: dev.candidate.macro_f1 },
    },
  };
}
