// A store the size of a busy deployment, written in a few statements: the API bench (bench/api.ts) drives the server
// on it, and the plan tests (tests/list-plans.test.ts) check each list query on it. Going through ingestion would
// take an hour for a million mentions; the rows here have the shape ingestion gives them instead:
// - 3 brands and 10 targets across sources, mentions spread over `days` days, one in six without a publication time;
// - one mention in five is a copy that joined the story of the one before it (1M mentions: 800k clusters);
// - one in twenty names a second brand;
// - sentiment mostly neutral, a fifth negative; every `mentions / tickets`-th mention opened a ticket (its story's),
//   most of them solved or closed, with a created history row, a helpdesk delivery and, for half, the helpdesk's id.
import { sql } from 'kysely';
import { parseConfig } from '../../config/load.ts';
import type { EarshotConfig } from '../../config/schema.ts';
import { crawlers } from '../../crawlers/registry.ts';
import { syncConfig } from '../../scheduler/sync-config.ts';
import type { Db } from '../../store/connect.ts';

export const BULK_CONFIG_YAML = `brands:
  - { name: Kaspi, keywords: [kaspi, каспи] }
  - { name: Magnum, keywords: [magnum, магнум] }
  - { name: Halyk, keywords: [halyk, халык] }
teams:
  - { id: support, name: Support }
  - { id: smm, name: SMM }
routing: { defaultTeam: support }
targets:
  - { id: kaspi-2gis, source: 2gis, brand: Kaspi, params: { branchId: "70000001000000001", domain: 2gis.kz } }
  - { id: kaspi-play, source: google-play, brand: Kaspi, params: { appId: kz.kaspi.mobile, languages: [ru, kk], country: kz } }
  - { id: kaspi-news, source: rss, brand: Kaspi, params: { url: "https://news.example.kz/kaspi.xml" } }
  - { id: kaspi-telegram, source: telegram, brand: Kaspi, params: { channel: kaspi_news_example } }
  - { id: magnum-2gis, source: 2gis, brand: Magnum, params: { branchId: "70000001000000002", domain: 2gis.kz } }
  - { id: magnum-appstore, source: app-store, brand: Magnum, params: { appId: "1000000001", country: kz } }
  - { id: magnum-news, source: rss, brand: Magnum, params: { url: "https://news.example.kz/magnum.xml" } }
  - { id: halyk-2gis, source: 2gis, brand: Halyk, params: { branchId: "70000001000000003", domain: 2gis.kz } }
  - { id: halyk-reddit, source: reddit, brand: Halyk, params: { query: halyk } }
  - { id: halyk-telegram, source: telegram, brand: Halyk, params: { channel: halyk_news_example } }
`;

export function bulkConfig(): EarshotConfig {
  return parseConfig(BULK_CONFIG_YAML, { env: {}, crawlers });
}

// Our own sample texts, of the lengths mentions have: a line of a review to a long post.
const TEXTS = [
  'Очередь на кассе 40 минут, работали две кассы из шести. Больше не приду.',
  'Приложение снова не открывается после обновления, перевод завис уже второй день, поддержка молчит.',
  'Хороший магазин, свежие овощи и вежливый персонал. Рекомендую.',
  'Great app, transfers are instant and the card arrived in two days.',
  'Дүкен таза, бағалары қолайлы, бірақ таңертең нан жоқ болды.',
  'В новостях пишут, что сеть откроет ещё двенадцать магазинов в Алматы и Астане до конца года; аналитики ждут, что ' +
    'цены на базовые продукты останутся на прошлогоднем уровне, а доставка станет бесплатной для заказов от 10 000 тенге.',
  'Списали деньги дважды за одну покупку, в чате предложили ждать 10 рабочих дней. Это нормально?',
  'Обычный отзыв: зашёл, купил, ушёл. Парковка маленькая.',
  'The branch on Abay was closed during opening hours and nobody answered the phone. Disappointed.',
  'Кредит одобрили за пять минут, всё прозрачно, без скрытых комиссий. Спасибо!',
  'Курьер опоздал на три часа, половины заказа не было, деньги вернули только после жалобы. ' +
    'Раньше всё было отлично, что случилось с сервисом за последний месяц? Пишу сюда, потому что горячая линия не отвечает.',
  'Қосымша жаңартудан кейін жұмыс істемей қалды, көмектесіңіздер.',
];

const DAY_MS = 86_400_000;

export interface BulkStoreSize {
  mentions: number;
  tickets: number;
  /** The mentions are spread over the days before `now`. */
  days?: number;
  now: Date;
}

export interface BulkStore {
  config: EarshotConfig;
  mentions: number;
  clusters: number;
  tickets: number;
}

/**
 * Fills an empty, migrated store (PostgreSQL as a superuser, or PGlite), then moves the sequences past the rows and
 * analyzes the tables, as autovacuum would after a day of crawling.
 */
export async function seedBulkStore(db: Db, size: BulkStoreSize): Promise<BulkStore> {
  const config = bulkConfig();
  await syncConfig(db, config, crawlers, size.now);
  const n = size.mentions;
  const spanMs = (size.days ?? 90) * DAY_MS;
  const ticketEvery = Math.max(2, Math.floor(n / Math.max(1, size.tickets)));
  const now = size.now;
  await db.transaction().execute(async (trx) => {
    // A story points at its first mention and the mention at its story: ingestion writes them one after the other
    // in one transaction; written here in bulk, the two foreign keys are checked by the test that reads them back
    // (tests/list-plans.test.ts), not row by row.
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    // Targets in a fixed order: mention g comes from target g % 10.
    await sql`
      CREATE TEMP TABLE bulk_targets ON COMMIT DROP AS
      SELECT (row_number() OVER (ORDER BY t.id) - 1)::int AS k, t.id, t.source, t.brand_id FROM targets t
    `.execute(trx);
    await sql`CREATE TEMP TABLE bulk_texts (k int, text text) ON COMMIT DROP`.execute(trx);
    await sql`INSERT INTO bulk_texts SELECT (ord - 1)::int, t FROM unnest(${TEXTS}::text[]) WITH ORDINALITY AS u(t, ord)`.execute(trx);
    const targetCount = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM bulk_targets`.execute(trx)).rows[0]!.n);
    // The stories: one per mention that is not a copy (g % 5 <> 0), its id that of its first mention.
    await sql`
      INSERT INTO clusters (id, brand_id, representative_id, size, sources, first_seen_at, last_seen_at)
      SELECT g, bt.brand_id, g, CASE WHEN (g + 1) % 5 = 0 AND g < ${n} THEN 2 ELSE 1 END, ARRAY[bt.source],
        ${now}::timestamptz - make_interval(secs => (${n} - g)::float8 * ${spanMs / 1000} / ${n}),
        ${now}::timestamptz - make_interval(secs => (${n} - g)::float8 * ${spanMs / 1000} / ${n})
      FROM generate_series(1, ${n}::int) AS g JOIN bulk_targets bt ON bt.k = g % ${targetCount}
      WHERE g % 5 <> 0
    `.execute(trx);
    await sql`
      INSERT INTO mentions (id, source, external_id, brand_id, target_id, url, author, title, text, content_hash, rating,
        published_at, first_seen_at, updated_at, lang, sentiment, sentiment_score, sentiment_model, sentiment_confidence,
        actionable, action_reasons, metrics, reply, details, cluster_id, fingerprint)
      SELECT g, bt.source, 'bulk-' || g, bt.brand_id, bt.id, 'https://example.kz/' || bt.source || '/' || g,
        jsonb_build_object('name', 'Author ' || (g % 9973), 'handle', 'user' || (g % 9973)),
        CASE WHEN bt.source IN ('rss', 'reddit') THEN 'Заголовок новости ' || g END,
        tx.text || ' #' || g, md5(tx.text || g),
        CASE WHEN bt.source IN ('2gis', 'google-play', 'app-store') THEN 1 + g % 5 END,
        CASE WHEN g % 6 = 0 THEN NULL ELSE seen - interval '20 minutes' END, seen, seen,
        CASE WHEN tx.k IN (3, 8) THEN 'en' WHEN tx.k IN (4, 11) THEN 'kk' ELSE 'ru' END,
        s.label, CASE s.label WHEN 'negative' THEN -0.7 WHEN 'positive' THEN 0.6 ELSE 0 END,
        'ru-v1', 0.8, s.label = 'negative',
        CASE WHEN s.label = 'negative' THEN ARRAY['complaint']::text[] ELSE '{}'::text[] END,
        jsonb_build_object('likes', g % 50, 'views', g % 5000),
        CASE WHEN g % 40 = 0 THEN '{"text": "Здравствуйте! Разберёмся и ответим в личных сообщениях.", "at": null}'::jsonb ELSE 'null'::jsonb END,
        CASE WHEN bt.source = '2gis' THEN '{"verified": true}'::jsonb ELSE '{}'::jsonb END,
        CASE WHEN g % 5 = 0 THEN g - 1 ELSE g END, md5('fp' || g)
      FROM generate_series(1, ${n}::int) AS g
      JOIN bulk_targets bt ON bt.k = g % ${targetCount}
      JOIN bulk_texts tx ON tx.k = g % ${TEXTS.length}
      CROSS JOIN LATERAL (SELECT ${now}::timestamptz - make_interval(secs => (${n} - g)::float8 * ${spanMs / 1000} / ${n}) AS seen) t
      CROSS JOIN LATERAL (
        SELECT CASE WHEN ticket THEN 'negative' WHEN g % 7 IN (1, 2) THEN 'positive' WHEN g % 13 = 3 THEN 'negative'
          WHEN g % 17 = 4 THEN 'mixed' ELSE 'neutral' END AS label
        FROM (SELECT g % ${ticketEvery} = 1 AS ticket) k
      ) s
    `.execute(trx);
    await sql`
      INSERT INTO mention_brands (brand_id, mention_id)
      SELECT brand_id, id FROM mentions
      UNION ALL
      SELECT b.id, m.id FROM mentions m JOIN brands b ON b.id = (SELECT min(id) FROM brands WHERE id <> m.brand_id)
      WHERE m.id % 20 = 7
    `.execute(trx);
    // Tickets on every ticketEvery-th mention (g % ticketEvery = 1: of a story and its copy at most one); seq
    // scrambled against id, as later changes move a ticket to the end of the feed.
    await sql`
      INSERT INTO tickets (id, seq, mention_id, brand_id, cluster_id, team, status, priority, title, created_at, updated_at,
        version, assignee, routed_by, helpdesks, channels, first_response_at, solved_at, first_response_due_at, resolution_due_at)
      SELECT k, ((k::bigint * 7919) % total) + 1, m.id, m.brand_id, m.cluster_id, CASE WHEN k % 3 = 0 THEN 'smm' ELSE 'support' END,
        st.status, CASE WHEN k % 11 = 0 THEN 'high' WHEN k % 29 = 0 THEN 'urgent' ELSE 'normal' END,
        left(m.text, 80), m.first_seen_at, m.first_seen_at + interval '2 hours', CASE WHEN st.status = 'new' THEN 1 ELSE 3 END,
        CASE WHEN st.status = 'new' THEN NULL ELSE 'agent' || (k % 7) END, NULL, ARRAY['usedesk'], NULL,
        CASE WHEN st.status = 'new' THEN NULL ELSE m.first_seen_at + interval '40 minutes' END,
        CASE WHEN st.status IN ('solved', 'closed') THEN m.first_seen_at + interval '2 hours' END,
        m.first_seen_at + interval '1 hour', m.first_seen_at + interval '1 day'
      FROM (SELECT row_number() OVER (ORDER BY id)::bigint AS k, count(*) OVER () AS total, * FROM mentions WHERE id % ${ticketEvery} = 1) m
      CROSS JOIN LATERAL (
        SELECT CASE WHEN m.k % 10 = 0 THEN 'new' WHEN m.k % 20 = 1 THEN 'open' WHEN m.k % 20 = 11 THEN 'pending'
          WHEN m.k % 10 = 5 THEN 'closed' ELSE 'solved' END AS status
      ) st
    `.execute(trx);
    await sql`
      INSERT INTO ticket_history (ticket_id, seq, version, kind, actor, changes, note, at)
      SELECT id, seq, 1, 'created', 'system', '{}'::jsonb, NULL, created_at FROM tickets
    `.execute(trx);
    await sql`
      INSERT INTO outbox (message_id, destination_kind, destination_id, event_type, ticket_id, payload, status, attempts,
        next_attempt_at, last_attempt_at, last_status, delivered_at, created_at)
      SELECT 'msg_bulk_' || id, 'helpdesk', 'usedesk', 'ticket.created', id, '{}'::jsonb, 'delivered', 1,
        created_at, created_at, 200, created_at + interval '1 second', created_at
      FROM tickets
    `.execute(trx);
    await sql`
      INSERT INTO ticket_links (ticket_id, helpdesk_id, external_id, external_status, created_at, updated_at)
      SELECT id, 'usedesk', 'ud-' || id, status, created_at, updated_at FROM tickets WHERE id % 2 = 0
    `.execute(trx);
    await sql`
      UPDATE targets t SET latest_mention_at = l.latest
      FROM (SELECT target_id, max(coalesce(published_at, first_seen_at)) AS latest FROM mentions GROUP BY target_id) l
      WHERE l.target_id = t.id
    `.execute(trx);
    await sql`
      INSERT INTO crawl_runs (target_id, status, started_at, finished_at, pages, fetched, new, updated, duplicates, tickets)
      SELECT bt.id, 'ok', ${now}::timestamptz - make_interval(hours => h), ${now}::timestamptz - make_interval(hours => h) + interval '20 seconds',
        2, 40, 12, 3, 1, 1
      FROM bulk_targets bt CROSS JOIN generate_series(1, ${size.days ?? 90} * 6) AS h
    `.execute(trx);
    for (const [table, column] of [['mentions', 'id'], ['clusters', 'id'], ['tickets', 'id'], ['ticket_history', 'id'], ['outbox', 'id']] as const) {
      await sql`SELECT setval(pg_get_serial_sequence(${table}, ${column}), greatest((SELECT max(${sql.ref(column)}) FROM ${sql.table(table)}), 1))`.execute(trx);
    }
    await sql`SELECT setval('ticket_seq', greatest((SELECT max(seq) FROM tickets), 1))`.execute(trx);
  });
  await sql`ANALYZE`.execute(db);
  const count = async (table: 'mentions' | 'clusters' | 'tickets') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  return { config, mentions: await count('mentions'), clusters: await count('clusters'), tickets: await count('tickets') };
}
