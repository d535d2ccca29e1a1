// npm run train:sentiment [-- ru kk …]: trains each language's model by its recipe (recipe.ts), fits its decision
// offsets, writes sentiment/models/<lang>.bin and MANIFEST.json (every training file with its sha256, every dev
// file's scores), and prints each language's entry as a JSON line.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSentiment, MODELS_DIR, MODEL_LANGS } from '../analyze.ts';
import { evaluateRows } from '../eval.ts';
import { readLabelledJsonl } from '../labelled.ts';
import { detectLanguage } from '../language.ts';
import { deserializeModel, serializeModel } from '../model.ts';
import { calibrate } from './calibrate.ts';
import { fitTextModel, sentimentDataDir } from './fit.ts';
import { RECIPES } from './recipe.ts';

const dir = sentimentDataDir();
const asked = process.argv.slice(2);
const langs = asked.length > 0 ? MODEL_LANGS.filter((l) => asked.includes(l)) : [...MODEL_LANGS];
const manifestPath = join(MODELS_DIR, 'MANIFEST.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8').toString() || '{}') as Record<string, unknown>;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const fileSha = (file: string) => sha256(readFileSync(join(dir, file)));

for (const lang of langs) {
  const started = Date.now();
  const recipe = RECIPES[lang];
  const sets = recipe.train.map(({ file, weight }) => ({ file, weight, rows: readLabelledJsonl(join(dir, file)) }));
  const fitted = fitTextModel(sets, lang, recipe.fit, `${lang}-${recipe.version}`);
  // Offsets are fitted to the weights as shipped: quantized and read back.
  let model = deserializeModel(serializeModel(fitted), lang);
  let calibration = null;
  if (recipe.calibrateOn !== undefined) {
    const fit = calibrate(model, recipe.calibrateOn.flatMap((file) => readLabelledJsonl(join(dir, file))));
    model = { ...model, offsets: fit.offsets };
    calibration = {
      files: recipe.calibrateOn.map((file) => ({ file, sha256: fileSha(file) })), offsets: fit.offsets, fitted_on: fit.fittedOn,
      cross_fitted_macro_f1: fit.crossFittedMacroF1,
    };
  }
  const bytes = serializeModel(model);
  writeFileSync(join(MODELS_DIR, `${lang}.bin`), bytes);
  const shipped = deserializeModel(bytes, lang);
  const models = new Map([[lang, shipped]]);
  const dev = recipe.dev.map((file) => {
    const rows = readLabelledJsonl(join(dir, file));
    const { texts_per_s: _, ...score } = evaluateRows(rows, (text, kind, rating) => analyzeSentiment({ text, lang, kind, rating }, models).label);
    // Language id is not trained; its accuracy on the same texts is kept beside the model's.
    const languageId = Math.round((rows.filter((r) => detectLanguage(r.text) === lang).length / rows.length) * 10000) / 10000;
    return { file, sha256: fileSha(file), ...score, language_id_accuracy: languageId };
  });
  const entry = {
    model: shipped.name,
    train: sets.map(({ file, weight, rows }) => ({ file, n: rows.length, weight, sha256: fileSha(file) })),
    fit: recipe.fit,
    calibration,
    dev,
    weights: { bytes: bytes.length, sha256: sha256(bytes) },
  };
  manifest[lang] = entry;
  process.stdout.write(`${JSON.stringify({ lang, ...entry, seconds: (Date.now() - started) / 1000 })}\n`);
}
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
