import { describe, expect, it } from 'vitest';
import type { TicketRow } from '../store/tickets.ts';
import { planTicketChange, type ChangePlan, type SlaSettings, type TicketChangeRequest } from './lifecycle.ts';
import { businessHoursSchema, slaDeadlines, slaPolicySchema } from './sla.ts';

// Mon 2 March 2026. Almaty is UTC+5 all year: 10:00 there is 05:00Z.
const OPENED = new Date('2026-03-02T05:00:00Z');
const at = (iso: string) => new Date(iso);
const minutes = (base: Date, n: number) => new Date(base.getTime() + n * 60_000);

const ALMATY = businessHoursSchema.parse({ timezone: 'Asia/Almaty' }); // Mon-Fri 09:00-18:00
const SLA: SlaSettings = { policy: slaPolicySchema.parse({}), hoursOf: (team) => (team === 'almaty' ? ALMATY : null) };

/** A ticket as the store returns it, opened at OPENED with its deadlines fixed by the default policy. */
function ticket(over: Partial<TicketRow> = {}): TicketRow {
  const team = over.team ?? 'support';
  const priority = over.priority ?? 'normal';
  const d = slaDeadlines(OPENED, priority, SLA.policy, SLA.policy[priority].businessHours ? SLA.hoursOf(team) : null);
  return {
    id: '41', seq: '100', version: 3, mention_id: '900', brand_id: 1, team, status: 'new', priority,
    assignee: null, status_reason: null, routed_by: null, helpdesks: ['ud', 'zd'], channels: ['tg'],
    title: '[negative][rss] Ann: broken', created_at: OPENED, updated_at: OPENED, cluster_id: null, incident_id: null,
    first_response_at: null, solved_at: null,
    first_response_due_at: d.firstResponseDueAt, resolution_due_at: d.resolutionDueAt,
    first_response_warn_at: d.firstResponseWarnAt, resolution_warn_at: d.resolutionWarnAt,
    sla_paused_at: null, sla_warned: [], sla_breached: [],
    ...over,
  };
}

type Req = TicketChangeRequest;
const update = (set: Extract<Req, { kind: 'update' }>['set']): Req => ({ ticketId: '41', actor: 'olga', kind: 'update', set });
const plan = (t: TicketRow, req: Req, now: Date) => planTicketChange(t, req, now, SLA);

function applied(result: ChangePlan) {
  if (!result.ok) throw new Error(`expected a change, got ${JSON.stringify(result)}`);
  return result.change;
}

describe('planTicketChange: each kind of change', () => {
  const now = minutes(OPENED, 10);

  it('update status: leaving new is the first response, helpdesks hear of it', () => {
    expect(plan(ticket(), update({ status: 'open' }), now)).toEqual({
      ok: true,
      change: {
        set: { status: 'open', first_response_at: now, status_reason: null },
        kind: 'status',
        changes: { status: { from: 'new', to: 'open' } },
        notifyHelpdesks: true,
        origin: null,
      },
    });
  });

  it('update priority, assignee and team: one field each, no status effects', () => {
    const t = ticket({ status: 'open', first_response_at: OPENED });
    expect(applied(plan(t, update({ priority: 'urgent' }), now))).toEqual({
      set: { priority: 'urgent' }, kind: 'priority', changes: { priority: { from: 'normal', to: 'urgent' } }, notifyHelpdesks: true, origin: null,
    });
    expect(applied(plan(t, update({ assignee: 'olga@acme' }), now))).toMatchObject({
      set: { assignee: 'olga@acme' }, kind: 'assignee', changes: { assignee: { from: null, to: 'olga@acme' } },
    });
    expect(applied(plan({ ...t, assignee: 'olga@acme' }, update({ assignee: null }), now))).toMatchObject({
      set: { assignee: null }, kind: 'assignee', changes: { assignee: { from: 'olga@acme', to: null } },
    });
    expect(applied(plan(t, update({ team: 'almaty' }), now))).toEqual({
      set: { team: 'almaty' }, kind: 'team', changes: { team: { from: 'support', to: 'almaty' } }, notifyHelpdesks: true, origin: null,
    });
    // Neither touches the first response nor the status reason.
    const assigned = applied(plan(ticket(), update({ assignee: 'ivan' }), now));
    expect(assigned.set).toEqual({ assignee: 'ivan' });
  });

  it('several fields at once: a status change names the history row', () => {
    const change = applied(plan(ticket(), update({ status: 'open', assignee: 'ivan', priority: 'normal' }), now));
    expect(change.kind).toBe('status');
    // priority is already normal: not a change.
    expect(change.changes).toEqual({ assignee: { from: null, to: 'ivan' }, status: { from: 'new', to: 'open' } });
    expect(change.set).toEqual({ assignee: 'ivan', status: 'open', first_response_at: now, status_reason: null });
  });

  it('copy_joined: no field changes, but the helpdesks hear of the copy', () => {
    expect(plan(ticket(), { ticketId: '41', actor: 'system', kind: 'copy_joined', mentionId: '901' }, now)).toEqual({
      ok: true,
      change: { set: {}, kind: 'copy_joined', changes: { mention_id: '901' }, notifyHelpdesks: true, origin: null },
    });
  });

  it("answered_on_source: solved with that reason, first response at the answer's own time", () => {
    const reply = { text: 'We are sorry, fixed.', at: '2026-03-02T05:04:00.000Z' };
    expect(plan(ticket(), { ticketId: '41', actor: 'system', kind: 'answered_on_source', reply }, now)).toEqual({
      ok: true,
      change: {
        set: { status: 'solved', solved_at: now, first_response_at: at('2026-03-02T05:04:00Z'), status_reason: 'answered_on_source' },
        kind: 'answered_on_source',
        changes: { status: { from: 'new', to: 'solved' }, reply },
        notifyHelpdesks: true,
        origin: null,
      },
    });
  });

  it('answered_on_source: an undated, unreadable or future answer counts at now; an earlier response stays', () => {
    const answer = (replyAt: string | null, t = ticket()) =>
      applied(plan(t, { ticketId: '41', actor: 'system', kind: 'answered_on_source', reply: { text: 'hi', at: replyAt } }, now));
    expect(answer(null).set.first_response_at).toEqual(now);
    expect(answer('yesterday-ish').set.first_response_at).toEqual(now);
    expect(answer('2026-03-03T00:00:00Z').set.first_response_at).toEqual(now);
    const responded = answer('2026-03-02T05:04:00Z', ticket({ status: 'open', first_response_at: minutes(OPENED, 1) }));
    expect(responded.set).not.toHaveProperty('first_response_at');
    expect(responded.set).toMatchObject({ status: 'solved', status_reason: 'answered_on_source' });
  });

  it('not_actionable: set aside as ignored with its reason; nothing to do for a ticket already done', () => {
    const change = applied(plan(ticket({ status: 'open', first_response_at: OPENED }), { ticketId: '41', actor: 'olga', kind: 'not_actionable' }, now));
    expect(change).toEqual({
      set: { status: 'ignored', solved_at: now, status_reason: 'not_actionable' },
      kind: 'status',
      changes: { status: { from: 'open', to: 'ignored' } },
      notifyHelpdesks: true,
      origin: null,
    });
    for (const status of ['solved', 'closed', 'spam', 'ignored'] as const) {
      expect(plan(ticket({ status, solved_at: OPENED }), { ticketId: '41', actor: 'olga', kind: 'not_actionable' }, now), status)
        .toEqual({ ok: false, reason: 'unchanged' });
    }
  });

  it('setting a new ticket aside (not actionable, spam) is no first response', () => {
    const aside = applied(plan(ticket({ status: 'new' }), { ticketId: '41', actor: 'olga', kind: 'not_actionable' }, now));
    expect(aside.set).not.toHaveProperty('first_response_at');
    const spam = applied(plan(ticket({ status: 'new' }), { ticketId: '41', actor: 'helpdesk:ud', kind: 'helpdesk_status', helpdesk: 'ud', status: 'spam' }, now));
    expect(spam.set).toEqual({ status: 'spam', solved_at: now, status_reason: null });
  });

  it('helpdesk_status: the helpdesk it came from is the origin; its own status again is no change', () => {
    const req: Req = { ticketId: '41', actor: 'helpdesk:ud', kind: 'helpdesk_status', helpdesk: 'ud', status: 'solved' };
    expect(applied(plan(ticket({ status: 'open', first_response_at: OPENED }), req, now))).toEqual({
      set: { status: 'solved', solved_at: now, status_reason: null },
      kind: 'status',
      changes: { status: { from: 'open', to: 'solved' } },
      notifyHelpdesks: true,
      origin: 'ud',
    });
    expect(plan(ticket({ status: 'solved', solved_at: OPENED }), req, now)).toEqual({ ok: false, reason: 'unchanged' });
  });

  it('sla warning and breach: once per metric, ours alone (helpdesks are not told)', () => {
    const warn: Req = { ticketId: '41', actor: 'system', kind: 'sla', event: 'sla_warning', metric: 'first_response' };
    expect(plan(ticket(), warn, now)).toEqual({
      ok: true,
      change: { set: { sla_warned: ['first_response'] }, kind: 'sla_warning', changes: { metric: 'first_response' }, notifyHelpdesks: false, origin: null },
    });
    expect(plan(ticket({ sla_warned: ['first_response'] }), warn, now)).toEqual({ ok: false, reason: 'unchanged' });

    const breach: Req = { ticketId: '41', actor: 'system', kind: 'sla', event: 'sla_breached', metric: 'resolution' };
    expect(applied(plan(ticket({ sla_warned: ['first_response'], sla_breached: ['first_response'] }), breach, now))).toEqual({
      set: { sla_breached: ['first_response', 'resolution'] }, kind: 'sla_breached', changes: { metric: 'resolution' }, notifyHelpdesks: false, origin: null,
    });
    expect(plan(ticket({ sla_breached: ['resolution'] }), breach, now)).toEqual({ ok: false, reason: 'unchanged' });
  });

  it('a change that changes nothing is not ok', () => {
    const t = ticket({ status: 'open', first_response_at: OPENED, assignee: 'ivan' });
    expect(plan(t, update({ status: 'open', priority: 'normal', assignee: 'ivan', team: 'support' }), now)).toEqual({ ok: false, reason: 'unchanged' });
    expect(plan(t, update({}), now)).toEqual({ ok: false, reason: 'unchanged' });
  });
});

describe('planTicketChange: closed is final', () => {
  const closed = ticket({ status: 'closed', first_response_at: OPENED, solved_at: minutes(OPENED, 5) });
  const now = minutes(OPENED, 60);

  it('refuses any status change, from a person, a helpdesk or the source', () => {
    for (const req of [
      update({ status: 'open' }),
      update({ status: 'solved', assignee: 'ivan' }),
      { ticketId: '41', actor: 'helpdesk:zd', kind: 'helpdesk_status', helpdesk: 'zd', status: 'open' },
      { ticketId: '41', actor: 'system', kind: 'answered_on_source', reply: { text: 'hi', at: null } },
    ] satisfies Req[]) {
      expect(plan(closed, req, now), JSON.stringify(req)).toEqual({ ok: false, reason: 'closed', message: 'ticket 41 is closed: its status cannot change' });
    }
  });

  it('keeps its status, but its other fields may still change', () => {
    expect(plan(closed, update({ status: 'closed' }), now)).toEqual({ ok: false, reason: 'unchanged' });
    expect(applied(plan(closed, update({ status: 'closed', assignee: 'ivan' }), now)).set).toEqual({ assignee: 'ivan' });
  });
});

describe('planTicketChange: first response, solving, pending', () => {
  it('sets first_response_at once: leaving new again later is not a second first response', () => {
    const first = applied(plan(ticket(), update({ status: 'pending' }), minutes(OPENED, 3)));
    expect(first.set.first_response_at).toEqual(minutes(OPENED, 3));
    // Moved back to new by someone and out again: the first response stays the first one.
    const again = applied(plan(ticket({ first_response_at: minutes(OPENED, 3) }), update({ status: 'open' }), minutes(OPENED, 9)));
    expect(again.set).not.toHaveProperty('first_response_at');
    // A status change that does not leave new is no response.
    const later = applied(plan(ticket({ status: 'open', first_response_at: null }), update({ status: 'on_hold' }), minutes(OPENED, 9)));
    expect(later.set).not.toHaveProperty('first_response_at');
  });

  it('solved sets solved_at, closing keeps it, reopening clears it (and the system reason)', () => {
    const t = ticket({ status: 'open', first_response_at: OPENED });
    expect(applied(plan(t, update({ status: 'solved' }), minutes(OPENED, 30))).set).toEqual({
      status: 'solved', solved_at: minutes(OPENED, 30), status_reason: null,
    });
    const solved = ticket({ status: 'solved', first_response_at: OPENED, solved_at: minutes(OPENED, 30), status_reason: 'answered_on_source' });
    expect(applied(plan(solved, update({ status: 'closed' }), minutes(OPENED, 90))).set).toEqual({ status: 'closed', status_reason: null });
    expect(applied(plan(solved, update({ status: 'open' }), minutes(OPENED, 90)))).toMatchObject({
      set: { status: 'open', solved_at: null, status_reason: null },
      changes: { status: { from: 'solved', to: 'open' } },
    });
  });

  it('pending stops the clocks without moving deadlines; staying pending changes nothing', () => {
    const t = ticket({ status: 'open', first_response_at: OPENED });
    const pausedAt = minutes(OPENED, 20);
    expect(applied(plan(t, update({ status: 'pending' }), pausedAt)).set).toEqual({ status: 'pending', sla_paused_at: pausedAt, status_reason: null });
    expect(plan({ ...t, status: 'pending', sla_paused_at: pausedAt }, update({ status: 'pending' }), minutes(OPENED, 40)))
      .toEqual({ ok: false, reason: 'unchanged' });
  });

  it('leaving pending moves the deadlines on by the time paused (24/7)', () => {
    // urgent is 15m / 4h around the clock: due 05:15Z and 09:00Z, warnings at 05:12Z and 08:12Z.
    const t = ticket({ priority: 'urgent', status: 'pending', first_response_at: minutes(OPENED, 5), sla_paused_at: minutes(OPENED, 5) });
    expect([t.first_response_due_at, t.first_response_warn_at, t.resolution_due_at, t.resolution_warn_at]).toEqual([
      at('2026-03-02T05:15:00Z'), at('2026-03-02T05:12:00Z'), at('2026-03-02T09:00:00Z'), at('2026-03-02T08:12:00Z'),
    ]);
    const change = applied(plan(t, update({ status: 'open' }), minutes(OPENED, 35)));
    expect(change.set).toEqual({
      status: 'open',
      sla_paused_at: null,
      first_response_due_at: at('2026-03-02T05:45:00Z'),
      first_response_warn_at: at('2026-03-02T05:42:00Z'),
      resolution_due_at: at('2026-03-02T09:30:00Z'),
      resolution_warn_at: at('2026-03-02T08:42:00Z'),
      status_reason: null,
    });
  });

  it('a deadline already behind when the clock stopped does not move', () => {
    const t = ticket({ priority: 'urgent', status: 'pending', first_response_at: OPENED, sla_paused_at: at('2026-03-02T05:13:00Z') });
    const set = applied(plan(t, update({ status: 'solved' }), at('2026-03-02T06:13:00Z'))).set;
    expect(set).toMatchObject({
      status: 'solved',
      solved_at: at('2026-03-02T06:13:00Z'),
      sla_paused_at: null,
      first_response_warn_at: at('2026-03-02T05:12:00Z'),
      first_response_due_at: at('2026-03-02T06:15:00Z'),
      resolution_due_at: at('2026-03-02T10:00:00Z'),
    });
  });

  it("leaving pending moves the deadlines on by the team's open time paused (business hours)", () => {
    // normal: 4h / 27h in the team's hours. Opened Mon 10:00 Almaty: first response due Mon 14:00 (09:00Z),
    // resolution (3 business days of 9h) Thu 10:00 (05:00Z); warnings at 80%: Mon 13:12 and Wed 13:36.
    const base = ticket({ team: 'almaty' });
    expect([base.first_response_due_at, base.first_response_warn_at, base.resolution_due_at, base.resolution_warn_at]).toEqual([
      at('2026-03-02T09:00:00Z'), at('2026-03-02T08:12:00Z'), at('2026-03-05T05:00:00Z'), at('2026-03-04T08:36:00Z'),
    ]);
    // Pending from Mon 11:00 to Tue 10:00 local: 7h on Monday and 1h on Tuesday were open time.
    const pending = { ...base, status: 'pending' as const, first_response_at: at('2026-03-02T06:00:00Z'), sla_paused_at: at('2026-03-02T06:00:00Z') };
    expect(applied(plan(pending, update({ status: 'open' }), at('2026-03-03T05:00:00Z'))).set).toEqual({
      status: 'open',
      sla_paused_at: null,
      first_response_due_at: at('2026-03-03T08:00:00Z'), // Tue 13:00
      first_response_warn_at: at('2026-03-03T07:12:00Z'), // Tue 12:12
      resolution_due_at: at('2026-03-05T13:00:00Z'), // Thu 18:00
      resolution_warn_at: at('2026-03-05T07:36:00Z'), // Thu 12:36
      status_reason: null,
    });
    // A night spent pending (Mon 19:00 to Tue 08:00 local) costs no open time: nothing moves.
    const overnight = { ...pending, sla_paused_at: at('2026-03-02T14:00:00Z') };
    expect(applied(plan(overnight, update({ status: 'open' }), at('2026-03-03T03:00:00Z'))).set).toMatchObject({
      first_response_due_at: base.first_response_due_at,
      resolution_due_at: base.resolution_due_at,
      resolution_warn_at: base.resolution_warn_at,
    });
  });
});
