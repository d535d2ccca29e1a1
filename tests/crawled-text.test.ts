import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MentionDraft } from '../crawlers/types.ts';
import { ingestPage } from '../pipeline/ingest.ts';
import { brandQuery } from '../pipeline/query.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import { upsertBrand, type BrandRow } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { createTestStore } from './helpers/test-store.ts';

// A crawled item is anyone's text: a NUL (which PostgreSQL refuses in text and jsonb) or a lone surrogate in it
// must not fail the page, and the item is worth keeping without them.
describe('crawled text the store cannot keep as it is', () => {
  const now = new Date('2026-11-30T10:00:00Z');
  let store: Store;
  let brand: BrandRow;

  beforeAll(async () => {
    store = await createTestStore();
    brand = await upsertBrand(store.db, { name: 'Жетысу Маркет', keywords: ['жетысу маркет'] }, now);
  });
  afterAll(() => store.close());

  it('is stored with NULs dropped and lone surrogates replaced, in text, title, author and ids', async () => {
    const draft: MentionDraft = {
      source: 'vk', externalId: 'n\u00001', url: 'https://example.test/\u0000p', author: { name: 'Ай\u0000герим', handle: 'a\ud800' },
      title: 'Жетысу\u0000 Маркет', text: 'Жетысу Маркет\u0000 снова \ud83d закрыт', rating: null, publishedAt: now.toISOString(),
      lang: null, metrics: {}, reply: null, parentExternalId: null,
    };
    const policy = basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] });
    const counts = await ingestPage({ db: store.db, now: () => now, policy }, [draft], { brands: [{ brand, matcher: brandQuery(brand) }], targetId: null });
    expect(counts).toMatchObject({ new: 1 });
    const row = await store.db.selectFrom('mentions').select(['external_id', 'url', 'author', 'title', 'text']).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      external_id: 'n1', url: 'https://example.test/p', title: 'Жетысу Маркет', text: 'Жетысу Маркет снова \ufffd закрыт',
      author: { name: 'Айгерим', handle: 'a\ufffd' },
    });
  });
});
