import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSentiment, loadBaseModels, MODEL_LANGS } from '../sentiment/analyze.ts';
import { detectLanguage } from '../sentiment/language.ts';
import { sentimentDataDir } from '../sentiment/train/fit.ts';

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/**
 * Texts per second per language on this one thread, over the train files (texts never stored here).
 * `cold`: the first pass, every word new to the stem and n-gram caches, as after a restart; `warm`: a second
 * pass. `with_language_id` adds detecting the language, as ingestion does.
 */
export async function benchSentiment(opts: { limit: number }): Promise<void> {
  const dir = sentimentDataDir();
  globalThis.gc?.();
  const before = process.memoryUsage();
  const loadStarted = process.hrtime.bigint();
  const models = loadBaseModels();
  const loadMs = Number(process.hrtime.bigint() - loadStarted) / 1e6;
  globalThis.gc?.();
  const loaded = process.memoryUsage();
  for (const lang of MODEL_LANGS) {
    const texts = readFileSync(join(dir, `${lang}-train.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .slice(0, opts.limit)
      .map((line) => (JSON.parse(line) as { text: string }).text);
    const rate = (fn: (text: string) => unknown) => {
      const started = process.hrtime.bigint();
      for (const text of texts) fn(text);
      return Math.round(texts.length / (Number(process.hrtime.bigint() - started) / 1e9));
    };
    const cold = rate((text) => analyzeSentiment({ text, lang }));
    const warm = rate((text) => analyzeSentiment({ text, lang }));
    const withLanguageId = rate((text) => analyzeSentiment({ text, lang: detectLanguage(text) }));
    process.stdout.write(
      `${JSON.stringify({ bench: 'sentiment', lang, n: texts.length, texts_per_s_cold: cold, texts_per_s_warm: warm, texts_per_s_with_language_id: withLanguageId })}\n`,
    );
  }
  globalThis.gc?.();
  const after = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      bench: 'sentiment-memory', models: MODEL_LANGS.length, load_ms: Math.round(loadMs),
      weights_mb: mb([...models.values()].reduce((sum, m) => sum + m.weights.byteLength, 0)),
      // loaded: heap and buffers after loading (weights plus what the decoder has not yet returned);
      // with_caches: after every language ran, with the stem and n-gram caches and wink-nlp's model.
      loaded_mb: mb(loaded.heapUsed + loaded.arrayBuffers - before.heapUsed - before.arrayBuffers),
      with_caches_mb: mb(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers),
      rss_mb: mb(after.rss - before.rss), gc_forced: typeof globalThis.gc === 'function',
    })}\n`,
  );
}
