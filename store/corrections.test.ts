import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../tests/helpers/test-store.ts';
import type { Store } from './connect.ts';
import { correctActionable, correctSentiment, listCorrections, listMentionCorrections } from './corrections.ts';
import { upsertMentions } from './mentions.ts';
import type { MentionInput } from './mentions.ts';

const T0 = new Date('2026-03-01T12:00:00Z');
const T1 = new Date('2026-03-02T09:30:00Z');
const T2 = new Date('2026-03-03T18:45:00Z');

describe('mention corrections', () => {
  let store: Store;
  let brandId: number;
  let otherBrandId: number;
  let counter = 0;

  beforeAll(async () => {
    store = await createTestStore();
    brandId = await insertBrand('Acme');
    otherBrandId = await insertBrand('Other');
  });
  afterAll(() => store.close());

  async function insertBrand(name: string): Promise<number> {
    const row = await store.db
      .insertInto('brands')
      .values({ name, keywords: JSON.stringify([name.toLowerCase()]), updated_at: T0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** A crawled row as the pipeline builds it: model label, confidence and reasons. */
  function crawledRow(externalId: string, overrides: Partial<MentionInput> = {}): MentionInput {
    return {
      source: 'rss',
      external_id: externalId,
      brand_id: brandId,
      target_id: null,
      url: `https://example.test/${externalId}`,
      author: { name: 'Ann' },
      title: 'Delivery',
      text: 'the courier never came',
      content_hash: `h-${externalId}-1`,
      rating: 2,
      published_at: T0,
      first_seen_at: T0,
      updated_at: T0,
      lang: 'en',
      sentiment: 'negative',
      sentiment_score: -0.7,
      sentiment_model: 'en-v1',
      sentiment_confidence: 0.81,
      sentiment_reason: null,
      actionable: true,
      action_reasons: ['complaint'],
      metrics: {},
      reply: null,
      ...overrides,
    };
  }

  async function crawl(overrides: Partial<MentionInput> = {}): Promise<{ id: string; externalId: string }> {
    const externalId = `m${counter++}`;
    const [stored] = await upsertMentions(store.db, [crawledRow(externalId, overrides)]);
    return { id: stored!.id, externalId };
  }

  const mentionRow = (id: string) =>
    store.db.selectFrom('mentions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('writes the model confidence, reasons and mixed reason on insert, with defaults when absent', async () => {
    const full = await crawl({ sentiment: 'mixed', sentiment_reason: '5 stars, angry text', action_reasons: ['complaint', 'question'] });
    expect(await mentionRow(full.id)).toMatchObject({
      sentiment: 'mixed',
      sentiment_confidence: expect.closeTo(0.81, 5),
      sentiment_reason: '5 stars, angry text',
      action_reasons: ['complaint', 'question'],
      sentiment_corrected: false,
      actionable_corrected: false,
    });

    const bare = crawledRow(`m${counter++}`);
    delete bare.sentiment_confidence;
    delete bare.sentiment_reason;
    delete bare.action_reasons;
    const [stored] = await upsertMentions(store.db, [bare]);
    expect(await mentionRow(stored!.id)).toMatchObject({ sentiment_confidence: null, sentiment_reason: null, action_reasons: [] });
  });

  it('records who set the label, when, the old and new label, and updates the mention', async () => {
    const { id } = await crawl({ sentiment: 'mixed', sentiment_reason: 'rating overruled' });
    const result = await correctSentiment(store.db, { mentionId: id, label: 'positive', actor: 'olga', note: 'sarcasm misread', now: T1 });
    expect(result).toEqual({
      correction: {
        id: expect.any(String),
        mentionId: id,
        brandId,
        field: 'sentiment',
        oldValue: 'mixed',
        newValue: 'positive',
        actor: 'olga',
        note: 'sarcasm misread',
        createdAt: T1,
      },
      mention: {
        id,
        brandId,
        sentiment: 'positive',
        sentimentScore: 1,
        sentimentModel: 'human',
        sentimentConfidence: 1,
        sentimentCorrected: true,
        actionable: true,
        actionableCorrected: false,
      },
    });
    const row = await mentionRow(id);
    expect(row).toMatchObject({ sentiment: 'positive', sentiment_model: 'human', sentiment_reason: null, sentiment_corrected: true });
    const stored = await store.db.selectFrom('mention_corrections').selectAll().where('mention_id', '=', id).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ field: 'sentiment', old_value: 'mixed', new_value: 'positive', actor: 'olga', created_at: T1 });
  });

  it('records actionable corrections as true/false and updates the mention', async () => {
    const { id } = await crawl();
    const result = await correctActionable(store.db, { mentionId: id, actionable: false, actor: 'apikey:triage', now: T1 });
    expect(result?.correction).toMatchObject({ field: 'actionable', oldValue: 'true', newValue: 'false', actor: 'apikey:triage', note: null, createdAt: T1 });
    expect(result?.mention).toMatchObject({ actionable: false, actionableCorrected: true, sentimentCorrected: false, sentimentModel: 'en-v1' });
    expect(await mentionRow(id)).toMatchObject({ actionable: false, actionable_corrected: true, action_reasons: ['complaint'] });
  });

  it('records a correction equal to the current value: a confirmation is a training signal', async () => {
    const { id } = await crawl();
    const result = await correctSentiment(store.db, { mentionId: id, label: 'negative', actor: 'olga', now: T1 });
    expect(result?.correction).toMatchObject({ oldValue: 'negative', newValue: 'negative' });
    expect(result?.mention).toMatchObject({ sentiment: 'negative', sentimentModel: 'human', sentimentCorrected: true });
  });

  it('returns null for an unknown mention and records nothing', async () => {
    const before = await store.db.selectFrom('mention_corrections').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(await correctSentiment(store.db, { mentionId: '987654321', label: 'neutral', actor: 'olga', now: T1 })).toBeNull();
    expect(await correctActionable(store.db, { mentionId: '987654321', actionable: true, actor: 'olga', now: T1 })).toBeNull();
    expect(await listMentionCorrections(store.db, '987654321')).toBeNull();
    const after = await store.db.selectFrom('mention_corrections').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('keeps a person\'s label and actionable flag when a re-crawl updates the text', async () => {
    const corrected = await crawl();
    const untouched = await crawl();
    await correctSentiment(store.db, { mentionId: corrected.id, label: 'neutral', actor: 'olga', now: T1 });
    await correctActionable(store.db, { mentionId: corrected.id, actionable: false, actor: 'olga', now: T1 });

    // The edited review scores differently: the model would flip both fields back.
    const recrawl = (externalId: string) =>
      crawledRow(externalId, {
        text: 'the courier never came, and support hung up on me',
        content_hash: `h-${externalId}-2`,
        updated_at: T2,
        sentiment: 'negative',
        sentiment_score: -0.9,
        sentiment_model: 'en-v2',
        sentiment_confidence: 0.95,
        sentiment_reason: 'rating overruled',
        actionable: true,
        action_reasons: ['complaint', 'churn_threat'],
      });
    const stored = await upsertMentions(store.db, [recrawl(corrected.externalId), recrawl(untouched.externalId)]);
    const byId = new Map(stored.map((s) => [s.id, s]));
    expect(byId.get(corrected.id)).toMatchObject({ inserted: false, actionable: false });
    expect(byId.get(untouched.id)).toMatchObject({ inserted: false, actionable: true });

    expect(await mentionRow(corrected.id)).toMatchObject({
      text: 'the courier never came, and support hung up on me',
      updated_at: T2,
      sentiment: 'neutral',
      sentiment_score: 0,
      sentiment_model: 'human',
      sentiment_confidence: 1,
      sentiment_reason: null,
      sentiment_corrected: true,
      actionable: false,
      action_reasons: ['complaint'],
      actionable_corrected: true,
    });
    expect(await mentionRow(untouched.id)).toMatchObject({
      text: 'the courier never came, and support hung up on me',
      sentiment: 'negative',
      sentiment_score: expect.closeTo(-0.9, 5),
      sentiment_model: 'en-v2',
      sentiment_confidence: expect.closeTo(0.95, 5),
      sentiment_reason: 'rating overruled',
      actionable: true,
      action_reasons: ['complaint', 'churn_threat'],
    });
  });

  it('keeps only the corrected field: a sentiment correction leaves actionable to the crawl', async () => {
    const { id, externalId } = await crawl();
    await correctSentiment(store.db, { mentionId: id, label: 'positive', actor: 'olga', now: T1 });
    await upsertMentions(store.db, [crawledRow(externalId, { content_hash: `h-${externalId}-2`, actionable: false, action_reasons: [] })]);
    expect(await mentionRow(id)).toMatchObject({ sentiment: 'positive', actionable: false, action_reasons: [] });
  });

  it('lists a brand\'s corrections of one field in id order, with the text the trainer needs', async () => {
    const a = await crawl({ title: 'Courier', text: 'late again', rating: 1, lang: 'en' });
    const b = await crawl({ title: null, text: 'курьер опоздал', rating: null, lang: 'ru' });
    const other = await crawl({ brand_id: otherBrandId });
    const first = await correctSentiment(store.db, { mentionId: a.id, label: 'negative', actor: 'olga', now: T1 });
    await correctActionable(store.db, { mentionId: a.id, actionable: false, actor: 'olga', now: T1 });
    const second = await correctSentiment(store.db, { mentionId: b.id, label: 'neutral', actor: 'ivan', note: 'a fact', now: T2 });
    await correctSentiment(store.db, { mentionId: other.id, label: 'positive', actor: 'olga', now: T2 });

    // Corrections of earlier tests come before: start right before this test's first one.
    const since = String(BigInt(first!.correction.id) - 1n);
    const listed = await listCorrections(store.db, { brandId, field: 'sentiment', sinceId: since });
    expect(listed.map((c) => c.id)).toEqual([first!.correction.id, second!.correction.id]);
    expect(listed[0]).toMatchObject({
      mentionId: a.id, oldValue: 'negative', newValue: 'negative', actor: 'olga', text: 'late again', title: 'Courier', lang: 'en', rating: 1,
    });
    expect(listed[1]).toMatchObject({
      mentionId: b.id, oldValue: 'negative', newValue: 'neutral', note: 'a fact', text: 'курьер опоздал', title: null, lang: 'ru', rating: null,
    });

    expect(await listCorrections(store.db, { brandId, field: 'sentiment', sinceId: second!.correction.id })).toEqual([]);
    const all = await listCorrections(store.db, { brandId, field: 'sentiment' });
    expect(all.map((c) => c.id)).toEqual([...all.map((c) => c.id)].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)));
    expect(all.every((c) => c.brandId === brandId && c.field === 'sentiment')).toBe(true);
    const actionable = await listCorrections(store.db, { brandId, field: 'actionable', sinceId: since });
    expect(actionable).toHaveLength(1);
    expect(actionable[0]).toMatchObject({ mentionId: a.id, oldValue: 'true', newValue: 'false' });
  });

  it('lists one mention\'s corrections newest first', async () => {
    const { id } = await crawl();
    expect(await listMentionCorrections(store.db, id)).toEqual([]);
    await correctSentiment(store.db, { mentionId: id, label: 'neutral', actor: 'olga', now: T1 });
    await correctActionable(store.db, { mentionId: id, actionable: false, actor: 'olga', now: T1 });
    await correctSentiment(store.db, { mentionId: id, label: 'mixed', actor: 'ivan', now: T2 });
    const listed = await listMentionCorrections(store.db, id);
    expect(listed?.map((c) => [c.field, c.oldValue, c.newValue, c.actor])).toEqual([
      ['sentiment', 'neutral', 'mixed', 'ivan'],
      ['actionable', 'true', 'false', 'olga'],
      ['sentiment', 'negative', 'neutral', 'olga'],
    ]);
  });

  it('drops a mention\'s corrections with the mention', async () => {
    const { id } = await crawl();
    await correctSentiment(store.db, { mentionId: id, label: 'neutral', actor: 'olga', now: T1 });
    await store.db.deleteFrom('mentions').where('id', '=', id).execute();
    const left = await store.db.selectFrom('mention_corrections').select('id').where('mention_id', '=', id).execute();
    expect(left).toEqual([]);
  });
});
