import type { z } from 'zod';
import type { TicketEvent } from '../../documents/ticket.ts';
import type { TicketStatus } from '../../store/schema.ts';

/**
 * One attempt's outcome, which is the connector's retry policy: `ok`, or retry (after `retryAfterMs` when the
 * destination said so), or `gone`: a 4xx that will never succeed, dead at once and visibly.
 */
export type DeliveryOutcome =
  | { ok: true; status: number; externalId?: string; externalStatus?: string }
  | { ok: false; status: number | null; error: string; retryAfterMs: number | null; gone: boolean };

export interface SendContext {
  now: Date;
  timeoutMs: number;
  /**
   * Awaited before each request to the destination: keeps a delivery that makes several requests (a lookup
   * then a create, a status then a comment) within the destination's rate limit. Absent: no limit.
   */
  pace?: () => Promise<void>;
}

/** A ticket event for a helpdesk, rendered when it is sent, with what we know of the ticket there. */
export interface HelpdeskDelivery {
  /** The outbox row's message id: stable across retries (Zendesk's Idempotency-Key). */
  messageId: string;
  event: TicketEvent;
  /** The helpdesk's own ticket, once a create succeeded; null: not created there yet. */
  link: { externalId: string; externalStatus: string | null } | null;
  /**
   * A worker took this row before and never recorded how it went (it died mid-send): a create may have landed.
   * A helpdesk without an idempotency key looks for the ticket before creating it again.
   */
  uncertain: boolean;
}

/** A message for an alert channel or a generic webhook: a JSON body, already rendered. */
export interface ChannelMessage {
  messageId: string;
  body: Record<string, unknown>;
}

/** A status change a helpdesk reported, for one of its tickets. */
export interface InboundChange {
  /** The helpdesk's id of the ticket. */
  externalId: string;
  /** Our ticket id, when the helpdesk echoes it (additional_id, external_id). */
  ticketId: string | null;
  /** The helpdesk's own status, as it names it. */
  externalStatus: string;
  /** Ours; null when the helpdesk status has no counterpart (it is still recorded on the link). */
  status: TicketStatus | null;
}

export type InboundResult =
  | { ok: true; changes: InboundChange[] }
  | { ok: false; status: 400 | 401; error: string };

export interface InboundRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  rawBody: string;
}

/**
 * A kind of destination: its config schema (the `helpdesks[]` / `channels[]` entry, with `id` and `type`), how
 * it sends, and for helpdesks that report back, how it reads their webhooks.
 */
export interface Connector<C extends { id: string; type: string } = { id: string; type: string }> {
  type: string;
  configSchema: z.ZodType<C>;
  /** The least time between two requests to one destination (a helpdesk's rate limit); none when unset. */
  minIntervalMs?: (config: C) => number;
  /** Helpdesk side: create or update the ticket there. */
  deliverTicket?(config: C, delivery: HelpdeskDelivery, ctx: SendContext): Promise<DeliveryOutcome>;
  /** Channel side (and the generic webhook helpdesk): send a rendered message. */
  sendMessage?(config: C, message: ChannelMessage, ctx: SendContext): Promise<DeliveryOutcome>;
  /** Authenticates and reads a webhook the helpdesk sent us about its tickets. */
  receive?(config: C, request: InboundRequest, ctx: { now: Date }): InboundResult;
}
