import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../bin/cli.ts';
import { captureOutput } from './helpers/capture-output.ts';
import type { MentionDraft } from '../crawlers/types.ts';
import { commandTrain } from '../bin/commands/sentiment.ts';
import { createBrandModels } from '../pipeline/brand-models.ts';
import { prepareMentions } from '../pipeline/ingest.ts';
import { predictText } from '../sentiment/analyze.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { correctSentiment } from '../store/corrections.ts';
import { upsertMentions } from '../store/mentions.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { createTestStore } from './helpers/test-store.ts';

// The sentiment commands in-process: the same code as the binary, output.stdout and output.stderr captured.
const output = captureOutput();

const lines = () => output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
const scratch = mkdtempSync(join(tmpdir(), 'earshot-sentiment-'));
function scratchFile(name: string, body: string): string {
  const file = join(scratch, name);
  writeFileSync(file, body);
  return file;
}
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('earshot sentiment', () => {
  it('prints label, score, confidence, language, model and why it needs a reply', async () => {
    expect(await main(['sentiment', 'Приложение Ромашки не работает третий день, верните деньги!'], {})).toBe(0);
    const [result] = lines();
    expect(result).toMatchObject({ label: 'negative', lang: 'ru', model: 'ru-v1', lowConfidence: false, actionable: true });
    expect(result!.score).toBeLessThan(-0.5);
    expect(result!.confidence).toBeGreaterThan(0.6);
    expect(result!.action_reasons).toContain('complaint');
  });

  it('blends a star rating with the text and says why when they disagree', async () => {
    expect(await main(['sentiment', '--rating', '5', 'Ужасный сервис, деньги списали дважды, никогда больше'], {})).toBe(0);
    const [result] = lines();
    expect(result).toMatchObject({ label: 'mixed', model: 'rating+ru-v1' });
    expect(result!.reason).toMatch(/^5★ but the text reads negative/);
  });

  it.each([
    [['sentiment'], /needs a text/],
    [['sentiment', '--rating', '7', 'ok'], /--rating: a whole number of stars 1..5/],
    [['sentiment', '--lang', 'de', 'gut'], /--lang: use one of ru, kk, uz, en/],
  ])('rejects %j with exit 2', async (argv, message) => {
    expect(await main(argv, {})).toBe(2);
    expect(output.stderr).toMatch(message);
  });
});

describe('earshot eval-sentiment', () => {
  // Our own texts: clear cases in three languages.
  const rows = [
    { text: 'Отличный сервис, всё быстро доставили, спасибо!', label: 'positive' },
    { text: 'Ужасное приложение, постоянно вылетает, деньги списали дважды', label: 'negative' },
    { text: 'Поддержка не отвечает уже неделю, кошмар', label: 'negative' },
    { text: 'Очень довольна покупкой, рекомендую всем', label: 'positive' },
    { text: 'Worst service ever, they charged me twice and nobody answers', label: 'negative' },
    { text: 'I love this app, the support team is amazing!', label: 'positive' },
    { text: "Juda yaxshi ilova, rahmat!", label: 'positive' },
    { text: 'Ilova ishlamayapti, pulimni qaytaring, yomon', label: 'negative' },
  ];

  it('prints one JSON line: n, macro-F1 over the gold classes, accuracy, per class, texts per second', async () => {
    expect(await main(['eval-sentiment', scratchFile('two-class.jsonl', jsonl(rows))], {})).toBe(0);
    const out = lines();
    expect(out).toHaveLength(1);
    const [score] = out;
    expect(Object.keys(score!).sort()).toEqual(['accuracy', 'macro_f1', 'n', 'per_class', 'texts_per_s']);
    expect(score!.n).toBe(8);
    // Only negative and positive are in the gold labels, so neutral is not averaged in.
    expect(Object.keys(score!.per_class).sort()).toEqual(['negative', 'positive']);
    expect(score!.accuracy).toBe(1);
    expect(score!.macro_f1).toBe(1);
    expect(score!.texts_per_s).toBeGreaterThan(0);
  });

  it('scores with the model of --lang for every line', async () => {
    const russian = rows.slice(0, 4);
    expect(await main(['eval-sentiment', scratchFile('ru.jsonl', jsonl(russian)), '--lang', 'ru'], {})).toBe(0);
    expect(lines()[0]).toMatchObject({ n: 4, accuracy: 1 });
  });

  it('names the file, line and field of a bad line', async () => {
    const file = scratchFile('bad.jsonl', jsonl([rows[0]!, rows[1]!, { text: 'так себе', label: 'meh' }]));
    expect(await main(['eval-sentiment', file], {})).toBe(2);
    expect(output.stderr).toContain(`${file}:3: label:`);
    expect(output.stdout).toBe('');
  });
});

describe('earshot train --from-corrections', () => {
  let store: Store;
  let devDir: string;
  const now = new Date('2026-11-20T10:00:00Z');
  // A brand's own complaint the base model reads as neutral: a courier leaving parcels at the door.
  const streets = ['Абая', 'Сейфуллина', 'Толе би', 'Жандосова', 'Розыбакиева', 'Гагарина', 'Назарбаева', 'Фурманова', 'Кабанбай батыра', 'Саина', 'Утепова', 'Достык'];
  const probe = 'Курьер Ромашки оставил пакет у двери на Момышулы';

  beforeAll(async () => {
    store = await createTestStore();
    devDir = mkdtempSync(join(tmpdir(), 'earshot-dev-'));
    // A small dev split of our own texts stands in for the shared one.
    writeFileSync(join(devDir, 'dev-ru.jsonl'), jsonl([
      { text: 'Отличный сервис, всё быстро доставили, спасибо!', label: 'positive' },
      { text: 'Очень довольна покупкой, рекомендую всем', label: 'positive' },
      { text: 'Прекрасное обслуживание, спасибо кассиру', label: 'positive' },
      { text: 'Ужасное приложение, постоянно вылетает', label: 'negative' },
      { text: 'Поддержка не отвечает уже неделю, кошмар', label: 'negative' },
      { text: 'Деньги списали дважды, верните немедленно', label: 'negative' },
      { text: 'Банк открыл новое отделение на проспекте Абая', label: 'neutral' },
      { text: 'Магазин работает с девяти утра до десяти вечера', label: 'neutral' },
      { text: 'Завтра в городе ожидается снег', label: 'neutral' },
    ]));
  });
  afterAll(() => store.close());

  // The command uses the test's store and leaves it open.
  const train = (args: string[]) => commandTrain(['--from-corrections', ...args], testCommandContext({ store, now: () => now }));
  const brandSentimentModels = (db: Store['db'], brandId: number) => createBrandModels().forBrand(db, brandId);

  const draft = (externalId: string, text: string): MentionDraft => ({
    source: 'rss', externalId, url: null, author: { name: 'someone' }, text, title: null, rating: null,
    publishedAt: now.toISOString(), lang: null, metrics: {}, reply: null, parentExternalId: null,
  });

  async function correctAll(brand: string, texts: string[], label: 'negative' | 'positive') {
    const { id: brandId } = await upsertBrand(store.db, { name: brand, keywords: [brand] }, now);
    const rows = prepareMentions(texts.map((text, i) => draft(`${brand}-${i}`, text)), { brands: [{ id: brandId, matcher: null }], targetId: null }, now).rows;
    for (const stored of await upsertMentions(store.db, rows)) {
      await correctSentiment(store.db, { mentionId: stored.id, label, actor: 'olga', now });
    }
    return brandId;
  }

  it('adapts the brand model, prints dev macro-F1 before and after, and crawls then use it', async () => {
    vi.stubEnv('EARSHOT_SENTIMENT_DATA', devDir);
    const brandId = await correctAll('Ромашка', streets.map((s) => `Курьер Ромашки оставил пакет у двери на ${s}`), 'negative');
    const before = (await brandSentimentModels(store.db, brandId)).get('ru')!;
    expect(predictText(probe, before).label).not.toBe('negative');

    expect(await train(['--brand', 'Ромашка'])).toBe(0);
    const [line] = lines();
    expect(line).toMatchObject({
      brand: 'Ромашка', lang: 'ru', corrections: 12, held_out: expect.any(Number), decision: 'saved', version: 1,
      model: { before: 'ru-v1', after: `ru-v1+b${brandId}.1` },
      dev: { n: 9 },
    });
    expect(line!.dev.after).toBeGreaterThanOrEqual(line!.dev.before);

    const after = (await brandSentimentModels(store.db, brandId)).get('ru')!;
    expect(after.name).toBe(`ru-v1+b${brandId}.1`);
    expect(predictText(probe, after).label).toBe('negative');
    // Other languages keep the shipped model.
    expect((await brandSentimentModels(store.db, brandId)).get('kk')!.name).toBe('kk-v1');
    const models = await brandSentimentModels(store.db, brandId);
    const [row] = prepareMentions([draft('new', probe)], { brands: [{ id: brandId, matcher: null, models }], targetId: null }, now).rows;
    expect(row).toMatchObject({ sentiment: 'negative', sentiment_model: `ru-v1+b${brandId}.1`, actionable: true });
  });

  it('refuses an update that makes the dev split worse, and keeps the model in use', async () => {
    vi.stubEnv('EARSHOT_SENTIMENT_DATA', devDir);
    // Praise marked negative, over and over: learning it would break the dev split.
    const praise = ['Отличный сервис, всё быстро доставили, спасибо', 'Очень довольна покупкой, рекомендую', 'Прекрасное обслуживание', 'Лучший магазин в городе', 'Спасибо за быструю доставку'];
    const brandId = await correctAll('Лютик', praise.flatMap((t) => [t, `${t}!`, `${t}!!`]), 'negative');
    expect(await train(['--brand', 'Лютик'])).toBe(0);
    const [line] = lines();
    expect(line).toMatchObject({ brand: 'Лютик', lang: 'ru', decision: 'refused' });
    expect(line!.dev.after).toBeLessThan(line!.dev.before);
    expect(line!.reason).toMatch(/dev macro-F1 would fall/);
    expect((await brandSentimentModels(store.db, brandId)).get('ru')!.name).toBe('ru-v1');
  });

  it('waits for enough corrections', async () => {
    vi.stubEnv('EARSHOT_SENTIMENT_DATA', devDir);
    await correctAll('Василёк', ['Курьер Василька опоздал', 'Курьер Василька нагрубил'], 'negative');
    expect(await train(['--brand', 'Василёк'])).toBe(0);
    expect(lines()[0]).toMatchObject({ decision: 'skipped', reason: '2 corrections to learn from, need 5' });
  });

  it('needs --from-corrections', async () => {
    expect(await main(['train'], {})).toBe(2);
    expect(output.stderr).toMatch(/train needs --from-corrections/);
  });
});
