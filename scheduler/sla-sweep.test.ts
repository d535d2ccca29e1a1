import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertBrand, insertMention } from '../api/test-seed.ts';
import { loadTicketDocuments } from '../documents/ticket.ts';
import { silentLogger } from '../log/logger.ts';
import { openTicketForMention } from '../pipeline/open-tickets.ts';
import { changeTickets } from '../pipeline/ticket-changes.ts';
import { basicTicketPolicy, type TicketPolicy } from '../pipeline/ticket-policy.ts';
import { inTransaction, type Store } from '../store/connect.ts';
import type { TicketStatus } from '../store/schema.ts';
import { lockTicketSeq } from '../store/tickets.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { slaPolicySchema } from '../tickets/sla.ts';
import { sweepSlaClocks } from './sla-sweep.ts';

// Every priority on the default urgent targets, around the clock: first response 15m (warning at 12m),
// resolution 4h (warning at 3h12m).
const TARGET = { firstResponse: '15m', resolution: '4h', businessHours: false };
const POLICY: TicketPolicy = {
  ...basicTicketPolicy({
    defaultTeam: 'support',
    helpdesks: [{ id: 'ud' }],
    channels: [
      { id: 'tg', events: ['ticket.sla_warning', 'ticket.sla_breached'] },
      { id: 'ops', events: ['ticket.created'] },
    ],
  }),
  sla: { policy: slaPolicySchema.parse({ urgent: TARGET, high: TARGET, normal: TARGET, low: TARGET }), hoursOf: () => null },
};
const T0 = new Date('2026-03-02T05:00:00Z');
const after = (minutes: number, seconds = 0) => new Date(T0.getTime() + minutes * 60_000 + seconds * 1000);

describe('sweepSlaClocks', () => {
  let store: Store;
  let brandId: number;
  let counter = 0;

  beforeEach(async () => {
    store = await createTestStore();
    brandId = await insertBrand(store.db, 'Acme');
  });
  afterEach(async () => {
    await store?.close();
  });

  const sweep = (at: Date) => sweepSlaClocks({ db: store.db, now: () => at, policy: POLICY, log: silentLogger });
  async function openTicket(at: Date): Promise<string> {
    const mentionId = await insertMention(store.db, { brandId, externalId: `s${counter++}`, sentiment: 'negative', actionReasons: ['complaint'] });
    expect(await inTransaction(store.db, (trx) => openTicketForMention(trx, mentionId, { policy: POLICY, now: at }))).toBe(true);
    return (await store.db.selectFrom('tickets').select('id').where('mention_id', '=', mentionId).executeTakeFirstOrThrow()).id;
  }
  const setStatus = async (id: string, status: TicketStatus, at: Date) => {
    const { applied, refused } = await inTransaction(store.db, (trx) =>
      changeTickets(trx, [{ ticketId: id, actor: 'olga', kind: 'update', set: { status } }], { policy: POLICY, now: at }));
    expect(refused).toEqual([]);
    expect(applied).toHaveLength(1);
  };
  const ticketRow = (id: string) => store.db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const documentOf = async (id: string) => (await loadTicketDocuments(store.db, [id]))[0]!;
  const slaHistory = async (id: string) =>
    (await store.db.selectFrom('ticket_history').select(['kind', 'actor', 'changes', 'seq', 'version', 'at']).where('ticket_id', '=', id).orderBy('id').execute())
      .filter((h) => h.kind.startsWith('sla_'))
      .map((h) => `${h.kind}:${(h.changes as { metric: string }).metric}`);
  const alertsOf = (id: string) =>
    store.db
      .selectFrom('alerts as a')
      .innerJoin('outbox as o', 'o.id', 'a.outbox_id')
      .select(['a.kind', 'a.channel_id', 'o.destination_kind', 'o.event_type', 'o.payload'])
      .where('a.ticket_id', '=', id)
      .where('a.kind', 'like', 'sla_%')
      .orderBy('a.id')
      .execute();
  const helpdeskUpdatesOf = (id: string) =>
    store.db.selectFrom('outbox').select('id').where('ticket_id', '=', id).where('event_type', '=', 'ticket.updated').execute();

  it('warns at 80% and breaches at 100%, once each, as ticket changes told to the subscribed channels', async () => {
    const id = await openTicket(T0);
    const opened = await ticketRow(id);
    expect(opened.first_response_warn_at).toEqual(after(12));
    expect(opened.first_response_due_at).toEqual(after(15));

    expect(await sweep(T0)).toBe(0);
    expect(await sweep(after(11, 59))).toBe(0);
    expect(await ticketRow(id)).toEqual(opened);

    expect(await sweep(after(12))).toBe(1);
    const warned = await ticketRow(id);
    expect(warned).toMatchObject({ version: 2, sla_warned: ['first_response'], sla_breached: [], status: 'new' });
    expect(BigInt(warned.seq)).toBeGreaterThan(BigInt(opened.seq));
    const [warning] = await store.db.selectFrom('ticket_history').selectAll().where('ticket_id', '=', id).where('kind', '=', 'sla_warning').execute();
    expect(warning).toMatchObject({ actor: 'system', changes: { metric: 'first_response' }, seq: warned.seq, version: 2, at: after(12) });
    expect(await alertsOf(id)).toEqual([
      {
        kind: 'sla_warning:first_response', channel_id: 'tg', destination_kind: 'channel', event_type: 'ticket.sla_warning',
        payload: expect.objectContaining({
          alert: { kind: 'sla_warning', summary: expect.stringContaining('80% of the first response time is gone (due 2026-03-02T05:15:00.000Z)') },
          change: expect.objectContaining({ kind: 'sla_warning', actor: 'system', version: 2, seq: warned.seq }),
        }),
      },
    ]);
    // SLA clocks are ours: the helpdesk is not pushed an update, and a channel not subscribed hears nothing.
    expect(await helpdeskUpdatesOf(id)).toEqual([]);
    const everyAlert = await store.db.selectFrom('alerts').select(['kind', 'channel_id']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(everyAlert).toEqual([{ kind: 'ticket_created', channel_id: 'ops' }, { kind: 'sla_warning:first_response', channel_id: 'tg' }]);

    // Sweeping again at the same moment, or a little later, raises nothing new.
    expect(await sweep(after(12))).toBe(0);
    expect(await sweep(after(14, 59))).toBe(0);
    expect((await ticketRow(id)).version).toBe(2);

    expect(await documentOf(id)).toMatchObject({ breached: false, breaches: [] });
    expect(await sweep(after(15))).toBe(1);
    expect(await documentOf(id)).toMatchObject({ breached: true, breaches: ['first_response'], version: 3, status: 'new' });
    expect((await alertsOf(id)).map((a) => `${a.kind}>${a.channel_id}:${a.event_type}`)).toEqual([
      'sla_warning:first_response>tg:ticket.sla_warning',
      'sla_breached:first_response>tg:ticket.sla_breached',
    ]);
    expect(await sweep(after(15))).toBe(0);

    // The resolution clock runs on its own: warning at 3h12m, breach at 4h.
    expect(await sweep(after(191))).toBe(0);
    expect(await sweep(after(192))).toBe(1);
    expect(await sweep(after(240))).toBe(1);
    expect(await sweep(after(600))).toBe(0);
    expect(await slaHistory(id)).toEqual([
      'sla_warning:first_response', 'sla_breached:first_response', 'sla_warning:resolution', 'sla_breached:resolution',
    ]);
    expect(await documentOf(id)).toMatchObject({ breached: true, breaches: ['first_response', 'resolution'], version: 5 });
    expect(await helpdeskUpdatesOf(id)).toEqual([]);
  });

  it('a ticket first swept after its deadlines gets the breaches, not the warnings they supersede', async () => {
    const id = await openTicket(T0);
    expect(await sweep(after(300))).toBe(2);
    expect(await slaHistory(id)).toEqual(['sla_breached:first_response', 'sla_breached:resolution']);
    expect((await ticketRow(id)).version).toBe(3);
  });

  it('two sweeps at the same moment raise each event once', async () => {
    const ids = [await openTicket(T0), await openTicket(T0)];
    const raised = await Promise.all([sweep(after(12)), sweep(after(12))]);
    expect(raised[0]! + raised[1]!).toBe(2);
    for (const id of ids) {
      expect(await slaHistory(id)).toEqual(['sla_warning:first_response']);
      expect(await alertsOf(id)).toHaveLength(1);
    }
  });

  it('a ticket answered before its deadline never breaches first_response', async () => {
    const early = await openTicket(T0);
    const late = await openTicket(T0);
    await setStatus(early, 'open', after(5));
    expect((await ticketRow(early)).first_response_at).toEqual(after(5));

    expect(await sweep(after(12))).toBe(1); // only the late ticket's warning
    await setStatus(late, 'open', after(13)); // answered after the warning, before the deadline
    expect(await sweep(after(15))).toBe(0);
    expect(await sweep(after(60))).toBe(0);
    expect(await slaHistory(early)).toEqual([]);
    expect(await slaHistory(late)).toEqual(['sla_warning:first_response']);

    // Answered is not solved: the resolution clock still runs for both.
    expect(await sweep(after(240))).toBe(2);
    expect(await slaHistory(early)).toEqual(['sla_breached:resolution']);
    expect(await documentOf(late)).toMatchObject({ breaches: ['resolution'] });
  });

  it('a pending ticket is not swept; after it leaves pending its deadlines have moved by the time paused', async () => {
    const id = await openTicket(T0);
    await setStatus(id, 'pending', after(5));
    expect(await documentOf(id)).toMatchObject({ sla_paused: true, resolution_due_at: '2026-03-02T09:00:00.000Z' });

    // Both original deadlines pass while it is pending: nothing is raised.
    expect(await sweep(after(12))).toBe(0);
    expect(await sweep(after(240))).toBe(0);
    expect(await sweep(after(269))).toBe(0);

    // Back after 4h25m: every deadline still ahead at the pause moved on by that much.
    await setStatus(id, 'open', after(270));
    const row = await ticketRow(id);
    expect(row).toMatchObject({
      sla_paused_at: null,
      first_response_due_at: after(15 + 265),
      resolution_due_at: after(240 + 265),
      resolution_warn_at: after(192 + 265),
    });
    expect(await documentOf(id)).toMatchObject({ sla_paused: false, resolution_due_at: '2026-03-02T13:25:00.000Z' });

    // It was answered when it went pending, so only the resolution clock is left, on its new times.
    expect(await sweep(after(270))).toBe(0);
    expect(await sweep(after(192 + 265 - 1))).toBe(0);
    expect(await sweep(after(192 + 265))).toBe(1);
    expect(await sweep(after(240 + 265))).toBe(1);
    expect(await slaHistory(id)).toEqual(['sla_warning:resolution', 'sla_breached:resolution']);
  });

  // PGlite has one session, so writers cannot overlap there; on PostgreSQL a sweep meets the other ticket writers.
  it.skipIf(!process.env.DATABASE_URL)('waits for a ticket writer holding the seq lock instead of deadlocking with it', async () => {
    const id = await openTicket(T0);
    let writerHasLock!: () => void;
    let writerMayGo!: () => void;
    const locked = new Promise<void>((resolve) => (writerHasLock = resolve));
    const go = new Promise<void>((resolve) => (writerMayGo = resolve));
    // A writer as every ticket writer works: the seq lock first, then the ticket's row (here paused in between).
    const writer = store.db.transaction().execute(async (trx) => {
      await lockTicketSeq(trx);
      writerHasLock();
      await go;
      return changeTickets(trx, [{ ticketId: id, actor: 'olga', kind: 'update', set: { assignee: 'ivan' } }], { policy: POLICY, now: after(12) });
    });
    await locked;
    const sweeping = sweep(after(12));
    let settled = false;
    sweeping.then(() => (settled = true), () => (settled = true));
    // Let the writer go on once the sweep stands waiting for the seq lock, whatever it took before asking for it.
    for (let waiting = 0; waiting === 0 && !settled; ) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND objid = 7262001 AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(store.db);
      waiting = rows[0]!.n;
    }
    writerMayGo();
    const [written, raised] = await Promise.all([writer, sweeping]);
    expect(written.applied).toHaveLength(1);
    expect(raised).toBe(1);
    expect(await ticketRow(id)).toMatchObject({ assignee: 'ivan', sla_warned: ['first_response'], version: 3 });
  });
});
