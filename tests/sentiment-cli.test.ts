import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../bin/cli.ts';
import { captureOutput } from './helpers/capture-output.ts';

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

  it('prints one JSON line: n, macro-F1 over the gold classes, accuracy, per class, confusion, texts per second', async () => {
    expect(await main(['eval-sentiment', scratchFile('two-class.jsonl', jsonl(rows))], {})).toBe(0);
    const out = lines();
    expect(out).toHaveLength(1);
    const [score] = out;
    expect(Object.keys(score!).sort()).toEqual(['accuracy', 'by_kind', 'confusion', 'macro_f1', 'n', 'per_class', 'texts_per_s']);
    expect(score!.n).toBe(8);
    // Only negative and positive are in the gold labels, so neutral is not averaged in.
    expect(Object.keys(score!.per_class).sort()).toEqual(['negative', 'positive']);
    expect(score!.accuracy).toBe(1);
    expect(score!.macro_f1).toBe(1);
    expect(score!.texts_per_s).toBeGreaterThan(0);
    expect(score!.confusion).toEqual({ negative: { negative: 4 }, positive: { positive: 4 } });
    // No line says what kind of text it is or has stars: nothing to break down.
    expect(score!.by_kind).toEqual({});
  });

  it('breaks the scores down by kind of text, and scores reviews again with their stars', async () => {
    const kinds = [
      { text: 'Новое отделение банка открылось на Абая', label: 'neutral', kind: 'post' },
      { text: 'Поддержка не отвечает уже неделю, кошмар', label: 'negative', kind: 'post' },
      { text: 'Отличный сервис, всё быстро доставили, спасибо!', label: 'positive', kind: 'review', rating: 5 },
      // Three stars, but the text is a complaint sure enough to overrule them.
      { text: 'Курьер опоздал на два часа, деньги списали дважды', label: 'neutral', kind: 'review', rating: 3 },
      // A store's review dataset whose labels are its stars: the stars come back from the label.
      { text: 'Қосымша ашылмайды, ақшамды қайтарыңыз, нашар', label: 'negative', source: 'kazsandra-sc-valid' },
    ];
    expect(await main(['eval-sentiment', scratchFile('kinds.jsonl', jsonl(kinds))], {})).toBe(0);
    const [score] = lines();
    expect(Object.keys(score!.by_kind).sort()).toEqual(['post', 'review', 'review_with_stars']);
    expect(score!.by_kind.post.n).toBe(2);
    expect(score!.by_kind.review.n).toBe(3);
    expect(score!.by_kind.review_with_stars).toMatchObject({
      n: 3, confusion: { positive: { positive: 1 }, neutral: { negative: 1 }, negative: { negative: 1 } },
    });
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

// earshot train --from-corrections: tests/train-from-corrections.test.ts.
