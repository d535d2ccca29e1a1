import { z } from 'zod';
import type { Db } from '../store/connect.ts';
import { OUTBOX_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES } from '../store/schema.ts';
import { getTicketRecords, type TicketRecord } from '../store/ticket-feed.ts';
import type { TicketHistoryInput } from '../store/tickets.ts';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from './fields.ts';
import { loadMentionDocuments, mentionDocument, type MentionDocument } from './mention.ts';

const SLA_METRICS = ['first_response', 'resolution'] as const;

/** A ticket as everyone outside sees it: the API, helpdesk and channel payloads, `earshot tickets --json`. */
export const ticketDocument = z.object({
  id: z.string().describe('Our ticket id: Usedesk additional_id and Zendesk external_id carry exactly this'),
  seq: z.string().describe('Moves on every change: the change feed cursor'),
  version: z.number().int().describe('Moves on every change: send it back in If-Match to PATCH'),
  status: z.enum(TICKET_STATUSES),
  status_reason: z
    .string()
    .nullable()
    .describe('Why the status was set when earshot set it: answered_on_source, not_actionable, a routing rule…'),
  priority: z.enum(TICKET_PRIORITIES),
  team: z.string(),
  assignee: z.string().nullable(),
  title: z.string(),
  brand: z.string(),
  routed_by: z.string().nullable().describe('The routing rule that chose the team and destinations'),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  first_response_at: nullableTimestampSchema.describe(
    "When the ticket was first answered: a helpdesk status change or public reply, or the brand's answer on the source",
  ),
  solved_at: nullableTimestampSchema,
  first_response_due_at: nullableTimestampSchema.describe('SLA: fixed when the ticket opens, moved on by time spent pending'),
  resolution_due_at: nullableTimestampSchema,
  sla_paused: z.boolean().describe('The ticket is pending: its SLA clocks stand still'),
  breached: z.boolean().describe('An SLA target was missed'),
  breaches: z.array(z.enum(SLA_METRICS)),
  mention: mentionDocument.describe('The mention that opened the ticket'),
  cluster: z
    .object({
      id: z.string(),
      size: z.number().int().describe('How many mentions tell this story: copies attach to the open ticket'),
      sources: z.array(z.string()),
      first_seen_at: timestampSchema,
      last_seen_at: timestampSchema,
    })
    .nullable(),
  external: z
    .array(z.object({ helpdesk: z.string(), id: z.string(), status: z.string().nullable() }))
    .describe("The helpdesks' own ids of this ticket"),
  deliveries: z.array(
    z.object({
      destination_kind: z.enum(['helpdesk', 'channel']),
      destination_id: z.string(),
      event_type: z.string(),
      status: z.enum(OUTBOX_STATUSES),
      attempts: z.number().int(),
      last_status: z.number().int().nullable(),
      last_error: z.string().nullable(),
      delivered_at: nullableTimestampSchema,
    }),
  ),
});

export type TicketDocument = z.output<typeof ticketDocument>;

/** One change of a ticket, as its history and its `ticket.updated` event tell it. */
export const ticketChangeSchema = z.object({
  kind: z
    .string()
    .describe('created, status, assignee, priority, team, copy_joined, answered_on_source, sla_warning, sla_breached'),
  actor: z.string().describe('apikey:<name>, the person named in `by`, helpdesk:<id>, or system'),
  changes: z
    .record(z.string(), z.unknown())
    .describe('Field → { from, to }; copy_joined has mention (a Mention), answered_on_source has reply'),
  note: z.string().nullable(),
  seq: z.string(),
  version: z.number().int(),
  at: timestampSchema,
});

export type TicketChange = z.output<typeof ticketChangeSchema>;

/** A stored change as its history and its event tell it. */
export function formatTicketChange(h: TicketHistoryInput): TicketChange {
  return { kind: h.kind, actor: h.actor, changes: h.changes, note: h.note, seq: h.seq, version: h.version, at: formatTimestamp(h.at) };
}

export const TICKET_EVENT_TYPES = ['ticket.created', 'ticket.updated', 'ticket.sla_warning', 'ticket.sla_breached'] as const;
export type TicketEventType = (typeof TICKET_EVENT_TYPES)[number];

/** The body of every outgoing ticket event, rendered when it is sent: the ticket as it is then. */
export const ticketEventSchema = z.object({
  type: z.enum(TICKET_EVENT_TYPES),
  timestamp: timestampSchema,
  data: z.object({
    ticket: ticketDocument,
    change: ticketChangeSchema.nullable().describe('What happened; null for ticket.created'),
    alert: z
      .object({ kind: z.string(), summary: z.string() })
      .optional()
      .describe('Only for alert channels: one line to show'),
  }),
});

export type TicketEvent = z.output<typeof ticketEventSchema>;

export function formatTicket(t: TicketRecord, mention: MentionDocument): TicketDocument {
  return {
    id: t.id,
    seq: t.seq,
    version: t.version,
    status: t.status,
    status_reason: t.statusReason,
    priority: t.priority,
    team: t.team,
    assignee: t.assignee,
    title: t.title,
    brand: t.brand,
    routed_by: t.routedBy,
    created_at: formatTimestamp(t.createdAt),
    updated_at: formatTimestamp(t.updatedAt),
    first_response_at: formatTimestamp(t.firstResponseAt),
    solved_at: formatTimestamp(t.solvedAt),
    first_response_due_at: formatTimestamp(t.firstResponseDueAt),
    resolution_due_at: formatTimestamp(t.resolutionDueAt),
    sla_paused: t.slaPausedAt !== null,
    breached: t.slaBreached.length > 0,
    breaches: t.slaBreached,
    mention,
    cluster:
      t.cluster === null
        ? null
        : {
            id: t.cluster.id, size: t.cluster.size, sources: t.cluster.sources,
            first_seen_at: formatTimestamp(t.cluster.firstSeenAt), last_seen_at: formatTimestamp(t.cluster.lastSeenAt),
          },
    external: t.links.map((l) => ({ helpdesk: l.helpdeskId, id: l.externalId, status: l.externalStatus })),
    deliveries: t.deliveries.map((d) => ({
      destination_kind: d.destinationKind,
      destination_id: d.destinationId,
      event_type: d.eventType,
      status: d.status,
      attempts: d.attempts,
      last_status: d.lastStatus,
      last_error: d.lastError,
      delivered_at: formatTimestamp(d.deliveredAt),
    })),
  };
}

/** Documents for ticket records, reading their mentions in one query. */
export async function formatTickets(db: Db, records: readonly TicketRecord[]): Promise<TicketDocument[]> {
  const mentions = await loadMentionDocuments(db, records.map((t) => t.mentionId));
  return records.map((t) => formatTicket(t, mentions.get(t.mentionId)!));
}

/** The documents of tickets by id, in the order asked; unknown ids are left out. */
export async function loadTicketDocuments(db: Db, ids: readonly string[]): Promise<TicketDocument[]> {
  return formatTickets(db, await getTicketRecords(db, ids));
}
