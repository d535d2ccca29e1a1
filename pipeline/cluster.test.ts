import { describe, expect, it } from 'vitest';
import { generateRepostSet, pairwiseScore, type RepostItem } from '../bench/dedupe-set.ts';
import { createClusterIndex } from './cluster.ts';

// Our own texts: a complaint, a city news post, an unrelated review.
const COMPLAINT = 'Ромашка второй раз за месяц списала деньги за подписку дважды, в поддержке обещают вернуть уже десять дней и ничего не происходит.';
const NEWS = 'В Ташкенте с понедельника закрывают на ремонт участок улицы Шота Руставели, общественный транспорт пустят в объезд через Бабура до конца месяца.';
const REVIEW = 'Отличная кофейня у метро, бариста всегда помнит мой заказ, а круассаны свежие даже вечером.';

function clusterAll(texts: [id: string, text: string][]): Record<string, string> {
  const index = createClusterIndex();
  return Object.fromEntries(texts.map(([id, text]) => [id, index.add(id, text)]));
}

describe('createClusterIndex', () => {
  it('puts copies in the cluster of the first member and other stories in their own', () => {
    expect(
      clusterAll([
        ['1', COMPLAINT],
        ['2', NEWS],
        ['3', `RT @dilnoza_uz: ${COMPLAINT}`],
        ['4', REVIEW],
        ['5', `Forwarded from Ташкент сегодня\n${NEWS}`],
        ['6', COMPLAINT],
        ['7', `${COMPLAINT.replace('десять', 'двенадцать')} 😡 #ромашка`],
        ['8', `У меня то же самое, уже писал им в личку, тишина.\n\n${NEWS.slice(0, 110)}…`],
      ]),
    ).toEqual({ 1: '1', 2: '2', 3: '1', 4: '4', 5: '2', 6: '1', 7: '1', 8: '2' });
  });

  it('names the cluster after whichever copy came first, the original or not', () => {
    expect(clusterAll([['rt', `RT @timur88: ${NEWS}`], ['original', NEWS], ['quote', `Вот что пишут: «${NEWS}»`]])).toEqual({
      rt: 'rt',
      original: 'rt',
      quote: 'rt',
    });
  });

  it('joins the most similar of two clusters that both confirm', () => {
    // Two reposts of the complaint with long comments of their own: too different to be one cluster.
    const withComment = `${COMPLAINT}\n\nЯ уже третий месяц пытаюсь отписаться от этой подписки через приложение, кнопка просто не работает, а в чате поддержки отвечает бот.`;
    const edited = COMPLAINT.replace('десять', 'двенадцать');
    const otherComment = `Друзья, проверьте свои выписки, похоже это массовая история и не только у нас в Алматы.\n\n${edited}`;
    const clusters = clusterAll([['edited', otherComment], ['exact', withComment], ['complaint', COMPLAINT]]);
    // The complaint confirms with both; the repost that holds it word for word is the closer.
    expect(clusters.exact).not.toBe(clusters.edited);
    expect(clusters.complaint).toBe('exact');
  });

  it('matches texts too short to compare only when they are the same', () => {
    expect(clusterAll([['1', 'Ромашка не работает'], ['2', 'ромашка НЕ работает!!!'], ['3', 'Ромашка не отвечает'], ['4', '😡😡'], ['5', '😡😡']])).toEqual({
      1: '1',
      2: '1',
      3: '3',
      4: '4',
      5: '5',
    });
  });
});

describe('the evaluation set (bench/dedupe-set.ts)', () => {
  const cluster = (items: readonly RepostItem[]) => {
    const index = createClusterIndex();
    const clusters = new Map(items.map((item) => [item.id, index.add(item.id, item.text)]));
    return (id: string) => clusters.get(id)!;
  };

  // The target: one story one ticket (recall) without merging different stories (precision).
  it.each([1, 2, 3])('seed %i: precision ≥ 0.99 and recall ≥ 0.95 on ≥ 1,500 items', (seed) => {
    const items = generateRepostSet({ seed });
    expect(items.length).toBeGreaterThanOrEqual(1500);
    const score = pairwiseScore(items, cluster(items));
    expect(score.pairs_true).toBeGreaterThan(2000);
    expect(score.precision).toBeGreaterThanOrEqual(0.99);
    expect(score.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('is the same for a seed and differs between seeds', () => {
    expect(generateRepostSet({ seed: 7, originals: 20 })).toEqual(generateRepostSet({ seed: 7, originals: 20 }));
    expect(generateRepostSet({ seed: 8, originals: 20 })).not.toEqual(generateRepostSet({ seed: 7, originals: 20 }));
  });

  it('has stories with copies, stories without, and different stories sharing a sentence', () => {
    const items = generateRepostSet({ seed: 1, originals: 100, copiesPerOriginal: 3 });
    const sizes = new Map<string, number>();
    for (const item of items) sizes.set(item.group, (sizes.get(item.group) ?? 0) + 1);
    const copied = [...sizes].filter(([group, n]) => group.startsWith('o') && n > 1);
    expect(copied).toHaveLength(100);
    expect(Math.max(...copied.map(([, n]) => n))).toBeLessThanOrEqual(4);
    expect([...sizes.keys()].filter((g) => g.startsWith('d')).length).toBeGreaterThan(300);
    expect([...sizes.keys()].filter((g) => g.startsWith('h')).length).toBeGreaterThanOrEqual(20);
  });
});

describe('pairwiseScore', () => {
  it('counts same-group pairs found and same-cluster pairs that are right', () => {
    const items = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1'].map((id) => ({ id, text: '', group: id[0]! }));
    // a3 split off, c1 wrongly with b.
    const clusters: Record<string, string> = { a1: 'x', a2: 'x', a3: 'y', b1: 'z', b2: 'z', c1: 'z' };
    expect(pairwiseScore(items, (id) => clusters[id]!)).toEqual({ precision: 2 / 4, recall: 2 / 4, pairs_true: 4, pairs_predicted: 4 });
    expect(pairwiseScore(items, (id) => id[0]!)).toEqual({ precision: 1, recall: 1, pairs_true: 4, pairs_predicted: 4 });
  });
});
