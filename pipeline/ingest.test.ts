import { describe, expect, it } from 'vitest';
import type { MentionDraft } from '../crawlers/types.ts';
import { loadBaseModels } from '../sentiment/analyze.ts';
import { prepareMentions } from './ingest.ts';
import { brandQuery, compileQuery } from './query.ts';

const NOW = new Date('2026-11-30T10:00:00Z');
const COMPLAINT = 'Жетысу Маркет списал деньги дважды, поддержка не отвечает. Верните деньги!';

function draft(over: Partial<MentionDraft> & { externalId: string }): MentionDraft {
  return {
    source: 'vk', url: null, author: { name: 'Айгерим', handle: 'aigerim_k', id: '1001' }, text: COMPLAINT, title: null,
    rating: null, publishedAt: NOW.toISOString(), lang: null, metrics: {}, reply: null, parentExternalId: null, ...over,
  };
}

const prepare = (drafts: MentionDraft[], ownAccounts: string[] = []) =>
  prepareMentions(drafts, { brands: [{ id: 1, matcher: null, ownAccounts }], targetId: null }, NOW).rows;

describe('prepareMentions: sentiment and whether a mention needs a reply', () => {
  it('stores the label, confidence and the reasons a reply is needed', () => {
    const [row] = prepare([draft({ externalId: 'a' })]);
    expect(row).toMatchObject({ lang: 'ru', sentiment: 'negative', sentiment_model: 'ru-v1', actionable: true, sentiment_reason: null });
    expect(row!.sentiment_confidence).toBeGreaterThan(0.6);
    expect(row!.action_reasons).toContain('complaint');
  });

  it("never asks the brand to answer its own account's posts, matched by handle, id or name", () => {
    const rows = prepare(
      [
        draft({ externalId: 'own-handle', author: { name: 'Жетысу Маркет', handle: '@Zhetysu_Market' } }),
        draft({ externalId: 'own-id', author: { name: 'Shop', id: '-2002' } }),
        draft({ externalId: 'customer' }),
      ],
      ['zhetysu_market', '-2002'],
    );
    expect(rows.map((r) => [r.external_id, r.actionable])).toEqual([['own-handle', false], ['own-id', false], ['customer', true]]);
    // The reasons stay visible: the post is a complaint, just not one to answer.
    expect(rows[0]!.action_reasons).toContain('complaint');
  });

  it('opens nothing for a review the brand already answered, or for an ad', () => {
    const rows = prepare([
      draft({ externalId: 'answered', reply: { text: 'Вернули деньги, извините', at: NOW.toISOString() } }),
      draft({ externalId: 'sponsored', details: { sponsored: true } }),
    ]);
    expect(rows.map((r) => r.actionable)).toEqual([false, false]);
  });

  it('blends stars with the title and text, and keeps the reason for mixed', () => {
    const [row] = prepare([draft({ externalId: 'r', source: '2gis', rating: 5, title: 'Ужасно', text: 'Ужасный сервис, деньги списали дважды, никогда больше' })]);
    expect(row).toMatchObject({ sentiment: 'mixed', sentiment_model: 'rating+ru-v1' });
    expect(row!.sentiment_reason).toMatch(/^5★ but the text reads negative/);
  });

  it("drops what the target's exclusion query matches, even where every item is kept, and what the brand query misses", () => {
    const drafts = [
      draft({ externalId: 'complaint' }),
      draft({ externalId: 'job', text: 'Жетысу Маркет ищет кассиров, вакансии на сайте' }),
      draft({ externalId: 'other', text: 'Совсем другой магазин списал деньги дважды' }),
    ];
    const own = prepareMentions(drafts, { brands: [{ id: 1, matcher: null }], targetId: null, exclude: compileQuery('ваканси*') }, NOW);
    expect(own.rows.map((r) => r.external_id)).toEqual(['complaint', 'other']);
    expect(own.unmatched).toBe(1);
    const keyword = prepareMentions(drafts, { brands: [{ id: 1, matcher: brandQuery({ keywords: ['жетысу маркет'] }) }], targetId: null, exclude: compileQuery('ваканси*') }, NOW);
    expect(keyword.rows.map((r) => r.external_id)).toEqual(['complaint']);
  });

  it("scores with the brand's models when given", () => {
    const base = loadBaseModels();
    const brandRu = { ...base.get('ru')!, name: 'ru-v1+b1.4' };
    const [row] = prepareMentions([draft({ externalId: 'b' })], { brands: [{ id: 1, matcher: null, models: new Map([...base, ['ru', brandRu]]) }], targetId: null }, NOW).rows;
    expect(row!.sentiment_model).toBe('ru-v1+b1.4');
  });

  it('keeps an item for every brand that names it, stored for the first of them; the first brand owns its page', () => {
    const market = { id: 1, matcher: brandQuery({ keywords: ['жетысу маркет'] }), ownAccounts: ['zhetysu_market'] };
    const rival = { id: 2, matcher: brandQuery({ keywords: ['ромашка'] }) };
    const batch = prepareMentions(
      [
        draft({ externalId: 'both', text: 'В Ромашке дешевле, чем в Жетысу Маркет, но очередь длиннее' }),
        draft({ externalId: 'rival', text: 'Ромашка списала деньги дважды, верните деньги!' }),
        draft({ externalId: 'neither', text: 'Погода в Алматы' }),
        draft({ externalId: 'own-page', text: 'Когда откроете магазин на Абая?', onOwnPage: true }),
      ],
      { brands: [market, rival], targetId: 't' },
      NOW,
    );
    expect(batch.rows.map((r, i) => [r.external_id, r.brand_id, batch.brandIds[i]])).toEqual([
      ['both', 1, [1, 2]],
      ['rival', 2, [2]],
      ['own-page', 1, [1]],
    ]);
    expect(batch.unmatched).toBe(1);
    // Scored and decided once, with the models and own accounts of the brand it is stored for.
    expect(batch.rows[1]).toMatchObject({ sentiment: 'negative', actionable: true });
  });

  it('keeps the paragraphs of the text; an item re-crawled with the old one-line text is not an update', () => {
    const [multi] = prepare([draft({ externalId: 'p', text: `Репост.\n\n${COMPLAINT}\n#жетысу` })]);
    const [single] = prepare([draft({ externalId: 'p', text: `Репост. ${COMPLAINT} #жетысу` })]);
    expect(multi!.text).toBe(`Репост.\n${COMPLAINT}\n#жетысу`);
    expect(multi!.content_hash).toBe(single!.content_hash);
    expect(multi).toMatchObject({ sentiment: single!.sentiment, actionable: single!.actionable, lang: single!.lang });
  });
});

