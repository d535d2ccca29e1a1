// Throwaway v0 measurement: node --import tsx sentiment/train/measure-v0.ts ../shared/datasets/sentiment
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectLanguage, type Lang } from '../language.ts';
import { WINK_NEGATIVE_BELOW, WINK_POSITIVE_ABOVE, labelWinkScore, scoreEnglishText, scoreSentiment } from '../score.ts';

type Row = { text: string; label: string; source: string };

const dir = process.argv[2];
if (!dir) throw new Error('usage: measure-v0.ts <datasets/sentiment dir>');

function readRows(file: string): Row[] {
  return readFileSync(join(dir!, file), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Row);
}

function macroF1(gold: string[], predicted: string[], labels: string[]) {
  const perLabel: Record<string, number> = {};
  for (const label of labels) {
    let tp = 0, fp = 0, fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === label && g === label) tp += 1;
      else if (p === label) fp += 1;
      else if (g === label) fn += 1;
    });
    perLabel[label] = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  const values = Object.values(perLabel);
  return { macroF1: values.reduce((a, b) => a + b, 0) / values.length, perLabel };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

const langFiles: [Lang, string][] = [['ru', 'dev-ru.jsonl'], ['kk', 'dev-kk.jsonl'], ['uz', 'dev-uz.jsonl'], ['en', 'dev-en.jsonl']];
const gold: string[] = [];
const predicted: string[] = [];
const accuracy: Record<string, unknown> = {};
const allTexts: string[] = [];
for (const [lang, file] of langFiles) {
  const rows = readRows(file);
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const guess = detectLanguage(row.text);
    counts[guess] = (counts[guess] ?? 0) + 1;
    gold.push(lang);
    predicted.push(guess);
    allTexts.push(row.text);
  }
  accuracy[lang] = { n: rows.length, accuracy: round((counts[lang] ?? 0) / rows.length), predicted: counts };
  if (lang === 'uz') {
    const human = rows.filter((r) => r.source !== 'machine-translated');
    const hits = human.filter((r) => detectLanguage(r.text) === 'uz').length;
    accuracy['uz-human'] = { n: human.length, accuracy: round(hits / human.length) };
  }
}
const langF1 = macroF1(gold, predicted, ['ru', 'kk', 'uz', 'en']);

const en = readRows('dev-en.jsonl');
const scores = en.map((r) => scoreEnglishText(r.text));
const enGold = en.map((r) => r.label);
const labelsAt = (neg: number, pos: number) => scores.map((s) => labelWinkScore(s, neg, pos));
let best = { neg: 0, pos: 0, macroF1: 0 };
for (let neg = -0.6; neg <= 0.2; neg += 0.01) {
  for (let pos = neg; pos <= 0.6; pos += 0.01) {
    const f1 = macroF1(enGold, labelsAt(neg, pos), ['negative', 'neutral', 'positive']).macroF1;
    if (f1 > best.macroF1) best = { neg: round(neg), pos: round(pos), macroF1: round(f1) };
  }
}
const shipped = macroF1(enGold, labelsAt(WINK_NEGATIVE_BELOW, WINK_POSITIVE_ABOVE), ['negative', 'neutral', 'positive']);

function throughput(fn: () => void, n: number): number {
  const start = process.hrtime.bigint();
  fn();
  return Math.round(n / (Number(process.hrtime.bigint() - start) / 1e9));
}
const langPerSecond = throughput(() => allTexts.forEach((t) => detectLanguage(t)), allTexts.length);
const pipelinePerSecond = throughput(
  () => allTexts.forEach((text) => scoreSentiment({ text, lang: detectLanguage(text), rating: null })),
  allTexts.length,
);

console.log(JSON.stringify({
  languageId: { ...accuracy, macroF1: round(langF1.macroF1), f1: Object.fromEntries(Object.entries(langF1.perLabel).map(([k, v]) => [k, round(v)])) },
  englishSentiment: {
    shipped: { negativeBelow: WINK_NEGATIVE_BELOW, positiveAbove: WINK_POSITIVE_ABOVE, macroF1: round(shipped.macroF1), perLabel: Object.fromEntries(Object.entries(shipped.perLabel).map(([k, v]) => [k, round(v)])) },
    bestGrid: best,
  },
  textsPerSecond: { detectLanguage: langPerSecond, detectAndScore: pipelinePerSecond },
}, null, 2));
