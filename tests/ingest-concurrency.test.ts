import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MentionDraft } from '../crawlers/types.ts';
import { ingestPage } from '../pipeline/ingest.ts';
import { upsertBrand, type BrandRow } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { createTestStore } from './helpers/test-store.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

// Our own texts: one complaint posted twelve times with small changes, so the twelve items are one story.
const PLACES = ['Абая', 'Сатпаева', 'Толе би', 'Жандосова', 'Розыбакиева', 'Тимирязева', 'Гагарина', 'Шевченко', 'Кабанбай батыра', 'Достык', 'Назарбаева', 'Фурманова'];

describe('two crawls storing the same items at once', () => {
  let store: Store;
  let brand: BrandRow;
  const now = () => new Date('2026-12-01T10:00:00Z');
  beforeAll(async () => {
    store = await createTestStore();
    brand = await upsertBrand(store.db, { name: 'Жетысу Маркет', keywords: ['жетысу маркет'] }, now());
  });
  afterAll(() => store.close());

  const draft = (place: string, i: number): MentionDraft => ({
    source: 'telegram', externalId: `post-${i}`, url: null, author: { name: 'someone' }, title: null, rating: null,
    text: `Жетысу Маркет на ${place} ${i + 2} раза списал деньги за один заказ, поддержка молчит. Верните деньги!`,
    publishedAt: now().toISOString(), lang: null, metrics: {}, reply: null, parentExternalId: null,
  });

  it('keep each item once, in one story with one ticket, whatever order their pages hold them in', async () => {
    const drafts = PLACES.map(draft);
    const deps = { db: store.db, now, policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels: [] }) };
    const scope = { brands: [{ brand, matcher: null }], targetId: null };
    // The same items in opposite orders, as two targets listing one channel would meet them.
    const [a, b] = await Promise.all([ingestPage(deps, drafts, scope), ingestPage(deps, [...drafts].reverse(), scope)]);
    expect(a.new + b.new).toBe(PLACES.length);
    expect(a.duplicates + b.duplicates).toBe(PLACES.length);
    expect(a.tickets + b.tickets).toBe(1);

    const mentions = await store.db.selectFrom('mentions').select(['external_id', 'cluster_id']).execute();
    expect(mentions).toHaveLength(PLACES.length);
    const clusters = await store.db.selectFrom('clusters').select(['id', 'size']).execute();
    expect(clusters).toEqual([{ id: mentions[0]!.cluster_id, size: PLACES.length }]);
    expect(new Set(mentions.map((m) => m.cluster_id))).toEqual(new Set([clusters[0]!.id]));
    expect(await store.db.selectFrom('mention_brands').select('mention_id').execute()).toHaveLength(PLACES.length);
    expect(await store.db.selectFrom('tickets').select('id').execute()).toHaveLength(1);
    expect(await store.db.selectFrom('outbox').select('id').execute()).toHaveLength(1);
  });
});
