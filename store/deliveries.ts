import type { Db } from './connect.ts';
import type { OutboxStatus } from './schema.ts';

export interface DeliveryListFilter {
  status?: OutboxStatus | undefined;
  /** Keyset cursor: only outbox rows with an id below this one. */
  beforeId?: string | undefined;
  limit: number;
}

export interface Delivery {
  id: string;
  messageId: string;
  destinationKind: 'helpdesk' | 'channel';
  destinationId: string;
  eventType: string;
  ticketId: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** Outbox rows, newest first by id; the way a dead delivery becomes visible to users. */
export async function listDeliveries(db: Db, filter: DeliveryListFilter): Promise<{ deliveries: Delivery[]; hasMore: boolean }> {
  let query = db
    .selectFrom('outbox')
    .select([
      'id', 'message_id', 'destination_kind', 'destination_id', 'event_type', 'ticket_id', 'status', 'attempts',
      'next_attempt_at', 'last_attempt_at', 'last_status', 'last_error', 'delivered_at', 'created_at',
    ])
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.execute();
  return {
    hasMore: rows.length > filter.limit,
    deliveries: rows.slice(0, filter.limit).map((row) => ({
      id: row.id,
      messageId: row.message_id,
      destinationKind: row.destination_kind,
      destinationId: row.destination_id,
      eventType: row.event_type,
      ticketId: row.ticket_id,
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      lastAttemptAt: row.last_attempt_at,
      lastStatus: row.last_status,
      lastError: row.last_error,
      deliveredAt: row.delivered_at,
      createdAt: row.created_at,
    })),
  };
}
