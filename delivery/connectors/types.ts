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

/**
 * A message for an alert channel or a generic webhook: a JSON body, already rendered. Its `type` says what it is:
 * a ticket event (`ticket.*`, data.ticket), a target or destination alert (`target.*`, `destination.failing`),
 * an incident event (`incident.*`, data.incident: documents/incident.ts) or a daily `digest` (data.digest).
 */
export interface ChannelMessage {
  messageId: string;
  body: Record<string, unknown>;
  /**
   * What the message is about, `ticket:<id>` or `incident:<id>`: a channel keeps one card per subject and
   * edits it as the subject changes. Null: a message of its own (target and destination alerts, digests).
   */
  subject: string | null;
  /**
   * The channel's own id of the subject's card once one was sent (Telegram message_id, the email Message-ID of
   * the thread's first mail); null before. A connector that edits in place edits it; email replies to it.
   */
  card: string | null;
  /** The subject in earshot's own web pages, for an "open in earshot" link; null when no public URL is set. */
  openUrl: string | null;
  /** Buttons (acknowledge, not relevant) are offered: the channel has a way to hear them pressed. */
  actions: boolean;
}

/** What a pressed button asks for: acknowledge a ticket or an incident, or mark a ticket's mention not relevant. */
export interface ChannelAction {
  kind: 'ack' | 'not_relevant';
  /** `ticket:<id>` or `incident:<id>`. */
  subject: string;
  /** Who pressed it: "telegram:@user", "slack:U123". */
  by: string;
  /** The provider's handle to answer the press (Telegram callback_query id, Slack response_url); null: none. */
  replyTo: string | null;
}

/** Button data as Telegram and Slack carry it (Telegram allows 64 bytes): `ack|incident:12`. */
export function encodeAction(kind: ChannelAction['kind'], subject: string): string {
  return `${kind === 'ack' ? 'ack' : 'nr'}|${subject}`;
}

export function decodeAction(data: string): { kind: ChannelAction['kind']; subject: string } | null {
  const match = /^(ack|nr)\|((?:ticket|incident):[A-Za-z0-9_-]{1,50})$/.exec(data);
  if (!match) return null;
  return { kind: match[1] === 'ack' ? 'ack' : 'not_relevant', subject: match[2]! };
}

export type ActionResult =
  | { ok: true; actions: ChannelAction[]; /** The HTTP answer the provider expects, if not an empty 200. */ response?: Record<string, unknown> }
  | { ok: false; status: 400 | 401; error: string };

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
  /**
   * Channel side (and the generic webhook helpdesk): send a rendered message. For a message with a subject the
   * ok outcome's `externalId` is the card's id (kept for the next message of the subject).
   */
  sendMessage?(config: C, message: ChannelMessage, ctx: SendContext): Promise<DeliveryOutcome>;
  /**
   * How the channel takes the events that only refresh a subject's card (`ticket.updated`, `incident.updated`):
   * `edit` the card in place (Telegram), or `send` each as a message of its own (the generic webhook: machines
   * want every change). Absent: they are not sent (a Slack incoming webhook, email), and recorded as delivered.
   */
  cardUpdates?: 'edit' | 'send';
  /** The channel's messages carry buttons: its config gives a way to hear them pressed. Absent: never. */
  offersActions?(config: C): boolean;
  /** Reads a button press the provider posted to us (Telegram webhook update, Slack interactivity payload). */
  receiveAction?(config: C, request: InboundRequest, ctx: { now: Date }): ActionResult;
  /** This config hears button presses by long polling (`pollActions`), rather than by a webhook or not at all. */
  pollsActions?(config: C): boolean;
  /** Long polling for button presses (Telegram getUpdates): waits up to `waitSeconds`; `offset` is the provider's cursor. */
  pollActions?(config: C, offset: number | null, ctx: { waitSeconds: number; signal?: AbortSignal }): Promise<{ actions: ChannelAction[]; offset: number | null }>;
  /** Tells the provider the press was handled, with a short text for the presser (Telegram answerCallbackQuery). */
  answerAction?(config: C, action: ChannelAction, text: string, ctx: { timeoutMs: number }): Promise<void>;
  /** Authenticates and reads a webhook the helpdesk sent us about its tickets. */
  receive?(config: C, request: InboundRequest, ctx: { now: Date }): InboundResult;
}
