import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MentionDraft } from '../crawlers/types.ts';
import { ingestPage } from '../pipeline/ingest.ts';
import { brandQuery, compileQuery } from '../pipeline/query.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import { upsertBrand, type BrandRow } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

// Our own text: one complaint, told on three sources. The brand is named in a Russian case form ("Магнуме"), with a
// Latin look-alike letter (M), and as a Latin name with a Kazakh ending ("Magnumда").
const REST =
  'на Абая списали деньги за заказ дважды, в поддержке третий день отвечают шаблоном и ничего не возвращают. ' +
  'Кассир сказал ждать две недели, но деньги нужны сейчас. Верните деньги за второй платеж!';
const ORIGINAL = `В Магнуме ${REST}`;
const LOOKALIKE = `Переслано от Жалобы Алматы\nВ Mагнуме ${REST}`;

const policy = basicTicketPolicy({ defaultTeam: 'support' });

interface Span {
  start: number;
  end: number;
}
interface MentionJson {
  id: string;
  source: string;
  brand: string;
  title: string | null;
  text: string;
  cluster: { id: string; size: number } | null;
}
interface DetailJson {
  mention: MentionJson;
  highlights: { title: Span[]; text: Span[] };
  ticket: { id: string; status: string; mention: MentionJson; cluster: { id: string } | null } | null;
  history: { kind: string; actor: string; changes: Record<string, unknown>; seq: string; version: number; at: string }[];
  copies: MentionJson[];
  copies_total: number;
}

const spanOf = (text: string, word: string): Span => {
  const start = text.indexOf(word);
  expect(start, word).toBeGreaterThanOrEqual(0);
  return { start, end: start + word.length };
};

describe('GET /api/v1/mentions/:id', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  let brand: BrandRow;
  let clock = new Date('2026-11-30T10:00:00Z');
  const ids = new Map<string, string>();

  const draft = (source: string, externalId: string, text: string, extra: Partial<MentionDraft> = {}): MentionDraft => ({
    source, externalId, url: null, author: { name: `author of ${externalId}` }, text, title: null, rating: null,
    publishedAt: clock.toISOString(), lang: null, metrics: {}, reply: null, parentExternalId: null, ...extra,
  });
  const ingest = async (drafts: MentionDraft[]) => {
    clock = new Date(clock.getTime() + 60_000);
    await ingestPage({ db: store.db, now: () => clock, policy }, drafts, { brands: [{ brand, matcher: brandQuery(brand) }], targetId: null });
    for (const d of drafts) {
      const row = await store.db.selectFrom('mentions').select('id').where('source', '=', d.source).where('external_id', '=', d.externalId).executeTakeFirstOrThrow();
      ids.set(d.externalId, row.id);
    }
  };
  const detail = async (id: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/mentions/${id}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as DetailJson;
  };

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => clock });
    headers = await createBearer(store.db);
    brand = await upsertBrand(store.db, { name: 'Магнум', keywords: ['магнум', 'magnum'] }, clock);
    await ingest([draft('vk', 'vk-1', ORIGINAL)]);
    await ingest([
      draft('telegram', 'tg-1', LOOKALIKE),
      draft('2gis', '2gis-1', ORIGINAL, { title: 'Magnumда обсчитали', rating: 1 }),
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it("highlights the brand's query in the stored text: a Russian case form, and a Latin look-alike letter", async () => {
    const original = await detail(ids.get('vk-1')!);
    expect(original.mention.text).toBe(ORIGINAL);
    expect(original.highlights).toEqual({ title: [], text: [spanOf(original.mention.text, 'Магнуме')] });

    const forwarded = await detail(ids.get('tg-1')!);
    // Offsets into the text as stored (paragraphs kept, the look-alike M kept), which the document carries.
    expect(forwarded.mention.text).toBe(LOOKALIKE);
    expect(forwarded.highlights).toEqual({ title: [], text: [spanOf(LOOKALIKE, 'Mагнуме')] });
    expect(LOOKALIKE.slice(forwarded.highlights.text[0]!.start, forwarded.highlights.text[0]!.end)).toBe('Mагнуме');
  });

  it('highlights the title apart from the text, a Latin name with a Kazakh ending included', async () => {
    const review = await detail(ids.get('2gis-1')!);
    expect(review.mention.title).toBe('Magnumда обсчитали');
    expect(review.highlights).toEqual({ title: [{ start: 0, end: 'Magnumда'.length }], text: [spanOf(ORIGINAL, 'Магнуме')] });
  });

  it("gives the story's ticket and its history as the ticket endpoints do, and the copies across sources, newest first", async () => {
    const forwarded = await detail(ids.get('tg-1')!);
    const clusterId = forwarded.mention.cluster!.id;
    expect(forwarded.mention.cluster!.size).toBe(3);
    // The ticket opened for the first mention of the story; each copy joined it.
    expect(forwarded.ticket).toMatchObject({ status: 'new', mention: { id: ids.get('vk-1') }, cluster: { id: clusterId } });
    const ticket = (await app.inject({ method: 'GET', url: `/api/v1/tickets/${forwarded.ticket!.id}`, headers })).json();
    expect(forwarded.ticket).toEqual(ticket);
    const history = (await app.inject({ method: 'GET', url: `/api/v1/tickets/${forwarded.ticket!.id}/history`, headers })).json();
    expect(forwarded.history).toEqual(history.data);
    expect(forwarded.history.map((h) => h.kind)).toEqual(['created', 'copy_joined', 'copy_joined']);

    expect(forwarded.copies.map((c) => [c.id, c.source])).toEqual([
      [ids.get('2gis-1'), '2gis'],
      [ids.get('vk-1'), 'vk'],
    ]);
    expect(forwarded.copies_total).toBe(2);
    expect(forwarded.copies.every((c) => c.cluster?.id === clusterId && c.brand === 'Магнум')).toBe(true);
    // A copy is a full mention document, as GET /mentions lists it.
    const listed = (await app.inject({ method: 'GET', url: `/api/v1/mentions?cluster=${clusterId}`, headers })).json();
    expect(forwarded.copies).toEqual(listed.data.filter((m: MentionJson) => m.id !== ids.get('tg-1')));
  });

  it("shows the story's newest ticket once a solved one was followed by another", async () => {
    const first = (await detail(ids.get('vk-1')!)).ticket!;
    await store.db.updateTable('tickets').set({ status: 'solved' }).where('id', '=', first.id).execute();
    await ingest([draft('vk', 'vk-2', `Опять! ${ORIGINAL}`)]);
    const again = await detail(ids.get('vk-1')!);
    expect(again.mention.cluster!.size).toBe(4);
    expect(again.ticket).toMatchObject({ status: 'new', mention: { id: ids.get('vk-2') } });
    expect(BigInt(again.ticket!.id)).toBeGreaterThan(BigInt(first.id));
    expect(again.history.map((h) => h.kind)).toEqual(['created']);
    expect(again.copies.map((c) => c.id)).toEqual([ids.get('vk-2'), ids.get('2gis-1'), ids.get('tg-1')]);
    expect(again.copies_total).toBe(3);

    // The open ticket comes before a newer closed one, as the inbox shows a story's ticket.
    await store.db.updateTable('tickets').set({ status: 'closed' }).where('id', '=', again.ticket!.id).execute();
    await store.db.updateTable('tickets').set({ status: 'open' }).where('id', '=', first.id).execute();
    expect((await detail(ids.get('tg-1')!)).ticket).toMatchObject({ id: first.id, status: 'open' });
    await store.db.updateTable('tickets').set({ status: 'solved' }).where('id', '=', first.id).execute();
    expect((await detail(ids.get('tg-1')!)).ticket).toMatchObject({ id: again.ticket!.id, status: 'closed' });
  });

  it('takes the compiled brand queries it is given, and the stored brand for a brand they lack', async () => {
    const given = await buildApp({
      db: store.db, storeKind: store.kind, now: () => clock, brandQueries: (name) => (name === 'Магнум' ? compileQuery('абая') : undefined),
    });
    try {
      const res = await given.inject({ method: 'GET', url: `/api/v1/mentions/${ids.get('vk-1')}`, headers });
      expect(res.json().highlights).toEqual({ title: [], text: [spanOf(ORIGINAL, 'Абая')] });
      const brandId = await insertBrand(store.db, 'Other');
      const id = await insertMention(store.db, { brandId, externalId: 'other-1', text: 'All about other things' });
      const other = await given.inject({ method: 'GET', url: `/api/v1/mentions/${id}`, headers });
      expect(other.json().highlights).toEqual({ title: [], text: [{ start: 10, end: 15 }] });
    } finally {
      await given.close();
    }
  });

  it('answers a mention without a story or ticket with empty parts', async () => {
    const brandId = await insertBrand(store.db, 'Acme');
    const id = await insertMention(store.db, { brandId, externalId: 'lonely', text: 'Nothing about acme today. ACME!' });
    const lonely = await detail(id);
    expect(lonely).toMatchObject({ ticket: null, history: [], copies: [], copies_total: 0, mention: { id, cluster: null } });
    expect(lonely.highlights).toEqual({ title: [], text: [{ start: 14, end: 18 }, { start: 26, end: 30 }] });
  });

  it('answers 404 for a mention that does not exist, and 400 for an id that is not one', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/v1/mentions/987654321', headers });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(missing.json().detail).toBe('There is no mention with id 987654321.');
    expect((await app.inject({ method: 'GET', url: '/api/v1/mentions/abc', headers })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/api/v1/mentions/${ids.get('vk-1')}` })).statusCode).toBe(401);
  });
});
