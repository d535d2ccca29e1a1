import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelledJsonl } from './labelled.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-labelled-'));
function file(name: string, lines: object[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

describe('readLabelledJsonl', () => {
  it('takes the kind of text from the line, else from the dataset it names', () => {
    const rows = readLabelledJsonl(file('kinds.jsonl', [
      { text: 'Отличное приложение', label: 'positive', kind: 'review' },
      { text: 'Банк открыл новое отделение', label: 'neutral', source: 'sentirueval2016-banks-train' },
      { text: 'Great phone, battery lasts', label: 'positive', source: 'uci-sentences-amazon' },
      { text: 'Без источника', label: 'neutral' },
    ]));
    expect(rows.map((r) => r.kind)).toEqual(['review', 'post', 'review', undefined]);
    // None of them came with stars.
    expect(rows.map((r) => r.rating)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('gives back the stars of a dataset whose labels were read from them, or takes the line\'s own', () => {
    const rows = readLabelledJsonl(file('stars.jsonl', [
      { text: 'Жаман', label: 'negative', source: 'kazsandra-sc-valid' },
      { text: 'Орташа', label: 'neutral', source: 'kazsandra-sc-valid' },
      { text: 'Керемет', label: 'positive', source: 'kazsandra-sc-train' },
      { text: 'Не очень', label: 'negative', rating: 2 },
    ]));
    expect(rows.map((r) => [r.kind, r.rating])).toEqual([['review', 1], ['review', 3], ['review', 5], [undefined, 2]]);
  });

  it('names the file, line and field of a bad kind or rating', () => {
    const path = file('bad.jsonl', [{ text: 'ok', label: 'neutral' }, { text: 'ok', label: 'neutral', kind: 'tweet' }]);
    expect(() => readLabelledJsonl(path)).toThrow(`${path}:2: kind:`);
    const stars = file('stars-bad.jsonl', [{ text: 'ok', label: 'neutral', rating: 6 }]);
    expect(() => readLabelledJsonl(stars)).toThrow(`${stars}:1: rating:`);
  });
});
