import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../tests/helpers/test-store.ts';
import type { Store } from './connect.ts';
import { latestBrandSentimentModels, listLiveSentimentModels, saveSentimentModel, type NewSentimentModel } from './sentiment-models.ts';

describe('sentiment models', () => {
  let store: Store;
  let acme: number;
  let other: number;

  beforeAll(async () => {
    store = await createTestStore();
    const brand = async (name: string) =>
      (await store.db
        .insertInto('brands')
        .values({ name, keywords: JSON.stringify([]), updated_at: new Date() })
        .returning('id')
        .executeTakeFirstOrThrow()).id;
    acme = await brand('Acme');
    other = await brand('Other');
  });
  afterAll(() => store.close());

  const model = (brandId: number, lang: string, byte: number): NewSentimentModel => ({
    brandId,
    lang,
    name: `${lang}-v1+b${brandId}.${byte}`,
    weights: new Uint8Array([byte, 0, 255, byte]),
    corrections: 40 + byte,
    measured: { on: 'held_out_corrections', size: 10, accuracy: 0.9, macroF1: 0.85, live: { model: `${lang}-v1`, accuracy: 0.7, macroF1: 0.6 } },
    dev: { before: 0.7, after: 0.75 },
    createdAt: new Date('2026-03-01T12:00:00Z'),
  });

  it('numbers versions per brand and language and keeps the weights byte for byte', async () => {
    const first = await saveSentimentModel(store.db, model(acme, 'ru', 1));
    const second = await saveSentimentModel(store.db, model(acme, 'ru', 2));
    const otherLang = await saveSentimentModel(store.db, model(acme, 'kk', 3));
    const otherBrand = await saveSentimentModel(store.db, model(other, 'ru', 4));
    expect([first.version, second.version, otherLang.version, otherBrand.version]).toEqual([1, 2, 1, 1]);
    expect(second).toMatchObject({
      brand_id: acme, lang: 'ru', corrections: 42, dev_before: expect.closeTo(0.7, 5), dev_after: expect.closeTo(0.75, 5),
      model_name: `ru-v1+b${acme}.2`, measured_on: 'held_out_corrections', measured_size: 10, measured_accuracy: 0.9,
      measured_macro_f1: 0.85, live_model: 'ru-v1', live_accuracy: 0.7, live_macro_f1: 0.6,
    });
    expect([...second.weights]).toEqual([2, 0, 255, 2]);
  });

  it("lists the newest version of each of a brand's languages, and no other brand's", async () => {
    await saveSentimentModel(store.db, model(acme, 'ru', 5));
    const latest = await latestBrandSentimentModels(store.db, acme);
    expect(latest.map((m) => [m.brand_id, m.lang, m.version, [...m.weights][0]])).toEqual([[acme, 'kk', 1, 3], [acme, 'ru', 3, 5]]);
    expect((await latestBrandSentimentModels(store.db, other)).map((m) => m.version)).toEqual([1]);
  });

  it('lists every brand\'s live model per language without weights, measured or not', async () => {
    await saveSentimentModel(store.db, { ...model(other, 'kk', 6), measured: null, dev: null });
    const live = await listLiveSentimentModels(store.db);
    expect(live.map((m) => [m.brand, m.lang, m.version, m.name])).toEqual([
      ['Acme', 'kk', 1, `kk-v1+b${acme}.3`], ['Acme', 'ru', 3, `ru-v1+b${acme}.5`], ['Other', 'kk', 1, `kk-v1+b${other}.6`], ['Other', 'ru', 1, `ru-v1+b${other}.4`],
    ]);
    expect(live[1]!.measured).toEqual({ on: 'held_out_corrections', size: 10, accuracy: 0.9, macroF1: 0.85, live: { model: 'ru-v1', accuracy: 0.7, macroF1: 0.6 } });
    expect(live[2]!.measured).toBeNull();
    expect(live[2]).not.toHaveProperty('weights');
  });
});
