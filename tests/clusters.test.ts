import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MentionDraft } from '../crawlers/types.ts';
import { brandQuery } from '../pipeline/query.ts';
import { ingestPage } from '../pipeline/ingest.ts';
import { upsertBrand, type BrandRow } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { listMentions } from '../store/mention-list.ts';
import { listTicketFeed } from '../store/ticket-feed.ts';
import { createTestStore } from './helpers/test-store.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

// Our own texts: one complaint told several ways, and a different one that shares its opening.
const STORY =
  'Жетысу Маркет на Абая списал деньги за заказ дважды, в поддержке третий день отвечают шаблоном и ничего не возвращают. ' +
  'Кассир сказал ждать две недели, но деньги нужны сейчас. Верните деньги за второй платеж!';
const OTHER =
  'Жетысу Маркет на Абая списал деньги за заказ дважды? Нет, на этот раз привезли не тот товар: вместо молока кефир, ' +
  'а курьер уехал, не дождавшись проверки. Поменяйте заказ или верните деньги за кефир!';

const policy = basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels: [] });

describe('clusters: each story once, one ticket per story', () => {
  let store: Store;
  let brand: BrandRow;
  let clock = new Date('2026-11-30T10:00:00Z');
  let serial = 0;

  beforeAll(async () => {
    store = await createTestStore();
    brand = await upsertBrand(store.db, { name: 'Жетысу Маркет', keywords: ['жетысу маркет'] }, clock);
  });
  afterAll(() => store.close());

  const draft = (source: string, text: string, extra: Partial<MentionDraft> = {}): MentionDraft => ({
    source, externalId: `${source}-${serial++}`, url: null, author: { name: `author ${serial}` }, text, title: null, rating: null,
    publishedAt: clock.toISOString(), lang: null, metrics: {}, reply: null, parentExternalId: null, ...extra,
  });
  const ingest = (drafts: MentionDraft[]) => {
    clock = new Date(clock.getTime() + 60_000);
    return ingestPage({ db: store.db, now: () => clock, policy }, drafts, { brands: [{ brand, matcher: brandQuery(brand) }], targetId: null });
  };
  const clusterOf = async (externalId: string) =>
    (await store.db.selectFrom('mentions').select('cluster_id').where('external_id', '=', externalId).executeTakeFirstOrThrow()).cluster_id;
  const openTicketsOf = (clusterId: string | null) =>
    store.db.selectFrom('tickets').selectAll().where('cluster_id', '=', clusterId).where('status', 'in', ['new', 'open', 'pending']).execute();

  it('puts reposts, forwards, the same review on other branches and a repost with a comment in one cluster', async () => {
    const original = draft('vk', STORY);
    const first = await ingest([original]);
    expect(first).toMatchObject({ new: 1, tickets: 1 });
    const cluster = await clusterOf(original.externalId);
    expect(cluster).not.toBeNull();

    const copies = [
      draft('telegram', `Переслано от Жалобы Алматы\n${STORY} https://t.me/complaints/123`),
      draft('2gis', STORY, { rating: 1 }),
      draft('2gis', STORY.replaceAll('а', 'a').replace('Жетысу', 'Жетысу'), { rating: 1 }),
      draft('vk', `Ужас, у меня то же самое было в прошлом месяце, никому не советую этот магазин. ${STORY} #жетысумаркет`),
    ];
    const later = await ingest(copies);
    for (const copy of copies) expect(await clusterOf(copy.externalId), copy.text.slice(0, 40)).toBe(cluster);
    expect(later).toMatchObject({ new: 4, tickets: 0 });

    const row = await store.db.selectFrom('clusters').selectAll().where('id', '=', cluster!).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ size: 5, sources: ['2gis', 'telegram', 'vk'] });
    // One ticket for the story; the copies attached to it moved its updated_at.
    const [ticket, ...more] = await openTicketsOf(cluster);
    expect(more).toEqual([]);
    expect(ticket!.updated_at.getTime()).toBeGreaterThan(ticket!.created_at.getTime());

    const feed = await listTicketFeed(store.db, { afterSeq: '0', limit: 50 });
    expect(feed.tickets.find((t) => t.id === ticket!.id)?.cluster).toMatchObject({ id: cluster, size: 5, sources: ['2gis', 'telegram', 'vk'] });
    const members = await listMentions(store.db, { cluster: cluster!, limit: 50 });
    expect(members.mentions.map((m) => m.source).sort()).toEqual(['2gis', '2gis', 'telegram', 'vk', 'vk']);
    expect(members.mentions.every((m) => m.cluster?.representativeId === members.mentions.at(-1)!.id)).toBe(true);
  });

  it('keeps a different story with the same opening apart, with its own ticket', async () => {
    const other = draft('vk', OTHER);
    expect(await ingest([other])).toMatchObject({ new: 1, tickets: 1 });
    const otherCluster = await clusterOf(other.externalId);
    const [first] = await store.db.selectFrom('mentions').select('cluster_id').where('text', '=', STORY).execute();
    expect(otherCluster).not.toBe(first!.cluster_id);
  });

  it('opens one ticket for copies that arrive on the same page', async () => {
    const text = 'Жетысу Маркет на Сатпаева: в молочном отделе уже неделю продают просроченный творог, продавцы только пожимают плечами.';
    const page = [draft('vk', text), draft('telegram', `RT @almaty_news: ${text}`), draft('2gis', text, { rating: 2 })];
    expect(await ingest(page)).toMatchObject({ new: 3, tickets: 1 });
    const clusters = new Set(await Promise.all(page.map((d) => clusterOf(d.externalId))));
    expect(clusters.size).toBe(1);
  });

  it("keeps only a viral story's first 20 members in the band index, and still gathers its later copies", async () => {
    const viral = 'Жетысу Маркет раздает бесплатные пакеты всем, кто придет в субботу в магазин на Толе би, акция до обеда, очередь уже с утра.';
    const copies = Array.from({ length: 25 }, (_, i) => draft('vk', `Друзья, номер ${i + 1}: ${viral}`));
    await ingest(copies.slice(0, 10));
    await ingest(copies.slice(10));
    const rows = await store.db.selectFrom('mentions').select(['external_id', 'cluster_id', 'lsh']).where('external_id', 'in', copies.map((c) => c.externalId)).orderBy('id').execute();
    expect(new Set(rows.map((r) => r.cluster_id)).size).toBe(1);
    expect(rows.map((r) => r.lsh.length > 0)).toEqual([...Array(20).fill(true), ...Array(5).fill(false)]);
    const late = draft('telegram', `Переслано: ${viral}`);
    await ingest([late]);
    expect(await clusterOf(late.externalId)).toBe(rows[0]!.cluster_id);
  });

  it('opens a new ticket for a story whose ticket was solved', async () => {
    const original = (await store.db.selectFrom('mentions').select('cluster_id').where('text', '=', STORY).executeTakeFirstOrThrow()).cluster_id;
    await store.db.updateTable('tickets').set({ status: 'solved' }).where('cluster_id', '=', original).execute();
    expect(await ingest([draft('vk', `Опять! ${STORY}`)])).toMatchObject({ new: 1, tickets: 1 });
    expect(await openTicketsOf(original)).toHaveLength(1);
  });
});
