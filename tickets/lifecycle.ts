import type { TicketRow, TicketUpdate } from '../store/tickets.ts';
import type { SlaMetric, TicketPriority, TicketStatus } from '../store/schema.ts';
import { shiftDeadlines, type BusinessHours, type SlaPolicy } from './sla.ts';

/** Where SLA clocks come from: the policy per priority and each team's business hours. */
export interface SlaSettings {
  policy: SlaPolicy;
  hoursOf(team: string): BusinessHours | null;
}

/** Everything that can happen to a ticket. Each applied change bumps seq and version and writes history. */
export type TicketChangeRequest = {
  ticketId: string;
  actor: string;
  note?: string | null;
  /** If-Match: refused unless the ticket is still at this version. */
  ifVersion?: number;
} & (
  | { kind: 'update'; set: { status?: TicketStatus; priority?: TicketPriority; assignee?: string | null; team?: string } }
  | { kind: 'copy_joined'; mentionId: string }
  | { kind: 'answered_on_source'; reply: { text: string; at: string | null } }
  | { kind: 'not_actionable' }
  | { kind: 'helpdesk_status'; helpdesk: string; status: TicketStatus }
  | { kind: 'sla'; event: 'sla_warning' | 'sla_breached'; metric: SlaMetric }
);

export interface PlannedChange {
  set: TicketUpdate;
  /** The history row's kind: status, priority, assignee, team, copy_joined, answered_on_source, sla_warning, sla_breached. */
  kind: string;
  changes: Record<string, unknown>;
  /** Helpdesks hear of it (a `ticket.updated`); SLA clocks are ours alone. */
  notifyHelpdesks: boolean;
  /** The helpdesk the change came from: it is not told its own news. */
  origin: string | null;
}

export type ChangePlan = { ok: true; change: PlannedChange } | { ok: false; reason: 'unchanged' } | { ok: false; reason: 'closed'; message: string };

/** Set aside rather than answered: moving there is no response to the author. */
const SET_ASIDE: ReadonlySet<TicketStatus> = new Set(['spam', 'ignored']);

/** Statuses in which nobody works on the ticket any more. */
const DONE: ReadonlySet<TicketStatus> = new Set(['solved', 'closed', 'spam', 'ignored']);

/**
 * The one rule of what a change does to a ticket, pure. A closed ticket stays closed (helpdesks treat it as
 * final too). The first response is the first move out of `new` (except to spam or ignored), or the brand's
 * answer on the source; leaving `pending` moves the SLA deadlines on by the time the clock stood still.
 */
export function planTicketChange(t: TicketRow, req: TicketChangeRequest, now: Date, sla: SlaSettings): ChangePlan {
  if (req.kind === 'sla') {
    const list = req.event === 'sla_warning' ? t.sla_warned : t.sla_breached;
    if (list.includes(req.metric)) return { ok: false, reason: 'unchanged' };
    const column = req.event === 'sla_warning' ? 'sla_warned' : 'sla_breached';
    return {
      ok: true,
      change: { set: { [column]: [...list, req.metric] }, kind: req.event, changes: { metric: req.metric }, notifyHelpdesks: false, origin: null },
    };
  }
  if (req.kind === 'copy_joined') {
    return { ok: true, change: { set: {}, kind: 'copy_joined', changes: { mention_id: req.mentionId }, notifyHelpdesks: true, origin: null } };
  }
  const wanted: { status?: TicketStatus; priority?: TicketPriority; assignee?: string | null; team?: string } =
    req.kind === 'update' ? req.set
    : req.kind === 'helpdesk_status' ? { status: req.status }
    : req.kind === 'not_actionable' ? { status: 'ignored' }
    : { status: 'solved' };
  if (req.kind === 'not_actionable' && DONE.has(t.status)) return { ok: false, reason: 'unchanged' };
  if (wanted.status !== undefined && wanted.status !== t.status && t.status === 'closed') {
    return { ok: false, reason: 'closed', message: `ticket ${t.id} is closed: its status cannot change` };
  }

  const set: TicketUpdate = {};
  const changes: Record<string, unknown> = {};
  for (const field of ['priority', 'assignee', 'team'] as const) {
    const to = wanted[field];
    if (to !== undefined && to !== t[field]) {
      Object.assign(set, { [field]: to });
      changes[field] = { from: t[field], to };
    }
  }
  const status = wanted.status;
  if (status !== undefined && status !== t.status) {
    changes.status = { from: t.status, to: status };
    Object.assign(set, statusEffects(t, status, now, sla));
  }
  const answered = req.kind === 'answered_on_source';
  if (answered) {
    changes.reply = req.reply;
    // The answer on the source is the first response, at the moment the source dates it when it does.
    if (t.first_response_at === null) set.first_response_at = answerTime(req.reply.at, now);
  } else if (status !== undefined && status !== t.status && t.status === 'new' && t.first_response_at === null && !SET_ASIDE.has(status)) {
    set.first_response_at = now;
  }
  if (Object.keys(changes).length === 0) return { ok: false, reason: 'unchanged' };
  if (changes.status !== undefined) {
    set.status_reason = req.kind === 'not_actionable' ? 'not_actionable' : answered ? 'answered_on_source' : null;
  }

  const kind = answered ? 'answered_on_source' : changes.status !== undefined ? 'status' : Object.keys(changes)[0]!;
  return {
    ok: true,
    change: { set, kind, changes, notifyHelpdesks: true, origin: req.kind === 'helpdesk_status' ? req.helpdesk : null },
  };
}

function statusEffects(t: TicketRow, to: TicketStatus, now: Date, sla: SlaSettings): TicketUpdate {
  const set: TicketUpdate = { status: to };
  if (DONE.has(to) && t.solved_at === null) set.solved_at = now;
  if (!DONE.has(to) && t.solved_at !== null) set.solved_at = null;
  if (to === 'pending' && t.sla_paused_at === null) set.sla_paused_at = now;
  if (to !== 'pending' && t.sla_paused_at !== null) {
    set.sla_paused_at = null;
    const hours = sla.hoursOf(t.team);
    const shifted = shiftDeadlines(
      {
        firstResponseDueAt: t.first_response_due_at, resolutionDueAt: t.resolution_due_at,
        firstResponseWarnAt: t.first_response_warn_at, resolutionWarnAt: t.resolution_warn_at,
      },
      t.sla_paused_at, now, hours, sla.policy[t.priority].businessHours,
    );
    set.first_response_due_at = shifted.firstResponseDueAt;
    set.resolution_due_at = shifted.resolutionDueAt;
    set.first_response_warn_at = shifted.firstResponseWarnAt;
    set.resolution_warn_at = shifted.resolutionWarnAt;
  }
  return set;
}

function answerTime(at: string | null, now: Date): Date {
  const parsed = at === null ? Number.NaN : Date.parse(at);
  return Number.isNaN(parsed) || parsed > now.getTime() ? now : new Date(parsed);
}
