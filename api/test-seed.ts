import { sql } from 'kysely';
import type { MentionAuthor } from '../crawlers/types.ts';
import type { ActionReason } from '../sentiment/types.ts';
import { createApiKey, type ApiKeyScope } from '../store/api-keys.ts';
import type { Db } from '../store/connect.ts';
import { advanceLatestMention } from '../store/mentions.ts';
import type { OutboxStatus, SentimentLabel, TicketStatus } from '../store/schema.ts';

/** Rows for API tests, inserted straight through kysely. */

export async function insertBrand(db: Db, name: string): Promise<number> {
  const row = await db
    .insertInto('brands')
    .values({ name, keywords: JSON.stringify([name.toLowerCase()]), updated_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function insertTarget(
  db: Db,
  target: { id: string; source: string; brandId: number; state?: 'ok' | 'degraded' | 'blocked'; lastError?: string | null },
): Promise<void> {
  await db
    .insertInto('targets')
    .values({
      id: target.id,
      source: target.source,
      brand_id: target.brandId,
      params: JSON.stringify({}),
      schedule: '0 */4 * * *',
      enabled: true,
      consecutive_errors: target.state === 'degraded' ? 3 : 0,
      state: target.state ?? 'ok',
      last_error: target.lastError ?? null,
      updated_at: new Date(),
    })
    .execute();
  await db.insertInto('target_brands').values({ target_id: target.id, brand_id: target.brandId, position: 0 }).execute();
}

export interface MentionSeed {
  brandId: number;
  externalId: string;
  source?: string;
  targetId?: string | null;
  sentiment?: SentimentLabel;
  publishedAt?: Date | null;
  firstSeenAt?: Date;
  text?: string;
  author?: Partial<MentionAuthor>;
  metrics?: Record<string, number>;
  actionReasons?: ActionReason[];
}

export async function insertMention(db: Db, seed: MentionSeed): Promise<string> {
  const firstSeenAt = seed.firstSeenAt ?? new Date('2026-03-01T12:00:00Z');
  const row = await db
    .insertInto('mentions')
    .values({
      source: seed.source ?? 'rss',
      external_id: seed.externalId,
      brand_id: seed.brandId,
      target_id: seed.targetId ?? null,
      url: `https://example.test/${seed.externalId}`,
      author: JSON.stringify(seed.author ?? { name: 'Ann' }),
      title: null,
      text: seed.text ?? `text of ${seed.externalId}`,
      content_hash: `h-${seed.externalId}`,
      rating: null,
      published_at: seed.publishedAt === undefined ? null : seed.publishedAt,
      first_seen_at: firstSeenAt,
      updated_at: firstSeenAt,
      lang: 'en',
      sentiment: seed.sentiment ?? 'neutral',
      sentiment_score: seed.sentiment === 'unscored' ? null : 0.5,
      sentiment_model: 'test-model',
      actionable: seed.sentiment === 'negative',
      action_reasons: seed.actionReasons ?? [],
      metrics: JSON.stringify(seed.metrics ?? {}),
      reply: JSON.stringify(null),
    })
    .returning(['id', 'target_id', sql<Date>`coalesce(published_at, first_seen_at)`.as('at')])
    .executeTakeFirstOrThrow();
  // As insertMentions does: the target keeps its newest mention's time.
  await advanceLatestMention(db, [row]);
  await db.insertInto('mention_brands').values({ brand_id: seed.brandId, mention_id: row.id }).execute();
  return row.id;
}

/** The writer's protocol: advisory lock, then seq from nextval, inside the inserting transaction. */
export async function insertTicketInTransaction(
  trx: Db,
  ticket: { mentionId: string; brandId: number; status?: TicketStatus; title?: string },
): Promise<{ id: string; seq: string }> {
  await sql`select pg_advisory_xact_lock(7262001)`.execute(trx);
  const now = new Date('2026-03-01T12:00:00Z');
  return trx
    .insertInto('tickets')
    .values({
      seq: sql<string>`nextval('ticket_seq')`,
      mention_id: ticket.mentionId,
      brand_id: ticket.brandId,
      team: 'support',
      status: ticket.status ?? 'new',
      priority: 'normal',
      title: ticket.title ?? `ticket for ${ticket.mentionId}`,
      created_at: now,
      updated_at: now,
    })
    .returning(['id', 'seq'])
    .executeTakeFirstOrThrow();
}

export async function insertTicket(
  db: Db,
  ticket: { mentionId: string; brandId: number; status?: TicketStatus; title?: string },
): Promise<{ id: string; seq: string }> {
  return db.transaction().execute((trx) => insertTicketInTransaction(trx, ticket));
}

export async function insertOutbox(
  db: Db,
  row: {
    messageId: string;
    ticketId?: string | null;
    status?: OutboxStatus;
    destinationKind?: 'helpdesk' | 'channel';
    destinationId?: string;
    attempts?: number;
    lastStatus?: number | null;
    lastError?: string | null;
  },
): Promise<string> {
  const created = new Date('2026-03-01T12:00:00Z');
  const inserted = await db
    .insertInto('outbox')
    .values({
      message_id: row.messageId,
      destination_kind: row.destinationKind ?? 'helpdesk',
      destination_id: row.destinationId ?? 'zendesk-main',
      event_type: 'ticket.created',
      ticket_id: row.ticketId ?? null,
      payload: JSON.stringify({ hello: 'world' }),
      status: row.status ?? 'pending',
      attempts: row.attempts ?? 0,
      next_attempt_at: created,
      last_status: row.lastStatus ?? null,
      last_error: row.lastError ?? null,
      delivered_at: row.status === 'delivered' ? created : null,
      created_at: created,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

export async function createBearer(db: Db, scopes: ApiKeyScope[] = ['read']): Promise<{ authorization: string }> {
  const { key } = await createApiKey(db, { name: `test ${scopes.join('+')}`, scopes });
  return { authorization: `Bearer ${key}` };
}
