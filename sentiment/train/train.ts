// npm run train:sentiment [-- ru kk …]: trains the per-language models from <lang>-train.jsonl, writes
// sentiment/models/<lang>.bin and MANIFEST.json, and prints the dev-split score of each as a JSON line.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR, MODEL_LANGS, predictText } from '../analyze.ts';
import { scoreLabels } from '../eval.ts';
import { readLabelledJsonl } from '../labelled.ts';
import { detectLanguage } from '../language.ts';
import { deserializeModel, serializeModel } from '../model.ts';
import { fitTextModel, sentimentDataDir } from './fit.ts';

export const MODEL_VERSION = 'v1';

const dir = sentimentDataDir();
const asked = process.argv.slice(2);
const langs = asked.length > 0 ? MODEL_LANGS.filter((l) => asked.includes(l)) : [...MODEL_LANGS];
const manifestPath = join(MODELS_DIR, 'MANIFEST.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8').toString() || '{}') as Record<string, unknown>;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

for (const lang of langs) {
  const started = Date.now();
  const trainPath = join(dir, `${lang}-train.jsonl`);
  const devPath = join(dir, `dev-${lang}.jsonl`);
  const rows = readLabelledJsonl(trainPath);
  const bytes = serializeModel(fitTextModel(rows, lang, `${lang}-${MODEL_VERSION}`));
  writeFileSync(join(MODELS_DIR, `${lang}.bin`), bytes);
  // Scored as shipped: the quantized weights read back from the file.
  const model = deserializeModel(bytes, lang);
  const dev = readLabelledJsonl(devPath);
  const score = scoreLabels(dev.map((r) => r.label), dev.map((r) => predictText(r.text, model).label));
  // Language id is not trained; its accuracy on the same dev texts is printed beside the model's.
  const languageId = Math.round((dev.filter((r) => detectLanguage(r.text) === lang).length / dev.length) * 10000) / 10000;
  const entry = {
    model: model.name, train: { file: `${lang}-train.jsonl`, n: rows.length, sha256: sha256(readFileSync(trainPath)) },
    dev: { file: `dev-${lang}.jsonl`, n: dev.length, macro_f1: score.macro_f1, accuracy: score.accuracy, language_id_accuracy: languageId },
    weights: { bytes: bytes.length, sha256: sha256(bytes) },
  };
  manifest[lang] = entry;
  process.stdout.write(`${JSON.stringify({ lang, ...entry, per_class: score.per_class, seconds: (Date.now() - started) / 1000 })}\n`);
}
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
