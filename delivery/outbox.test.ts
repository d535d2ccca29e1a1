import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDestinationAlerts } from '../alerts/destination-health.ts';
import { silentLogger } from '../log/logger.ts';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { startWebhookReceiver } from '../tests/helpers/webhook-receiver.ts';
import type { SendContext } from './connectors/types.ts';
import { webhookConnector } from './connectors/webhook.ts';
import { handleDueDeliveries } from '../scheduler/worker.ts';
import { deliverDueOutbox, retryDelayMs, type DeliveryDeps, type Destination } from './outbox.ts';

const SECRET = 'a-plain-secret-of-16+chars';
const policy = { maxAttempts: 4, initialDelaySeconds: 5, maxDelaySeconds: 60, timeoutSeconds: 2 };

const webhookAt = (url: string, connector: Destination['connector'] = webhookConnector): Destination => ({
  connector, config: { id: 'hook', type: 'webhook', url, secret: SECRET } as Destination['config'],
});

describe('retryDelayMs', () => {
  it('doubles per attempt within [half, full] of the step, capped, never before Retry-After', () => {
    expect(retryDelayMs(1, policy, null, () => 0)).toBe(2_500);
    expect(retryDelayMs(1, policy, null, () => 0.999999)).toBeCloseTo(5_000, -1);
    expect(retryDelayMs(3, policy, null, () => 1)).toBe(20_000);
    expect(retryDelayMs(10, policy, null, () => 1)).toBe(60_000);
    expect(retryDelayMs(1, policy, 30_000, () => 0)).toBe(30_000);
  });

  it("caps a destination's Retry-After at maxDelaySeconds, however large", () => {
    expect(retryDelayMs(1, policy, 10 ** 15, () => 0)).toBe(60_000);
    expect(new Date(Date.parse('2026-11-22T10:00:00Z') + retryDelayMs(1, policy, Number.MAX_SAFE_INTEGER)).toISOString()).toBe('2026-11-22T10:01:00.000Z');
  });
});

describe('deliverDueOutbox', () => {
  let store: Store;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let clock = new Date('2026-11-22T10:00:00Z');
  let deps: DeliveryDeps;

  beforeAll(async () => {
    store = await createTestStore();
    // /flaky fails twice then succeeds; /down always fails; /gone says the endpoint is gone.
    receiver = await startWebhookReceiver((path, n) => (path === '/flaky' ? (n <= 2 ? 503 : 200) : path === '/down' ? 500 : path === '/gone' ? 410 : 200));
    deps = {
      db: store.db,
      now: () => clock,
      policy,
      log: silentLogger,
      random: () => 1,
      destinationOf: (_kind, id) => (id === 'unknown' ? undefined : webhookAt(`${receiver.url}/${id}`)),
    };
    for (const id of ['flaky', 'down', 'gone', 'unknown']) {
      await store.db
        .insertInto('outbox')
        .values({ message_id: `msg_${id}`, destination_kind: 'helpdesk', destination_id: id, event_type: 'ticket.created', payload: JSON.stringify({ id }), status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
        .execute();
    }
  });
  afterAll(async () => {
    await store?.close();
    await receiver?.close();
  });

  const rows = async () =>
    Object.fromEntries(
      (await store.db.selectFrom('outbox').select(['destination_id', 'status', 'attempts', 'last_status', 'last_error', 'next_attempt_at']).execute()).map((r) => [r.destination_id, r]),
    );

  it('retries with backoff, delivers the flaky one, marks the hopeless ones dead and parks the unconfigured one, visibly', async () => {
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 0, retrying: 2, dead: 1, parked: 1, deferred: 0, suppressed: 0 });
    let state = await rows();
    expect(state.gone).toMatchObject({ status: 'dead', attempts: 1, last_status: 410 });
    expect(state.unknown).toMatchObject({ status: 'parked', attempts: 0, last_error: 'helpdesk "unknown" is not in the config: parked until it is back' });
    expect(state.flaky!.next_attempt_at.getTime() - clock.getTime()).toBe(5_000);

    // Nothing is due until the backoff has passed.
    clock = new Date(clock.getTime() + 4_000);
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 0, retrying: 0, dead: 0, parked: 0, deferred: 0, suppressed: 0 });
    clock = new Date(clock.getTime() + 1_000);
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 0, retrying: 2, dead: 0, parked: 0, deferred: 0, suppressed: 0 });
    state = await rows();
    expect(state.down!.next_attempt_at.getTime() - clock.getTime()).toBe(10_000);

    clock = new Date(clock.getTime() + 10_000);
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 1, retrying: 1, dead: 0, parked: 0, deferred: 0, suppressed: 0 });
    clock = new Date(clock.getTime() + 20_000);
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 0, retrying: 0, dead: 1, parked: 0, deferred: 0, suppressed: 0 });
    state = await rows();
    expect(state.flaky).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200 });
    expect(state.down).toMatchObject({ status: 'dead', attempts: 4, last_status: 500 });
    expect(receiver.received.filter((r) => r.path === '/flaky').map((r) => r.headers['webhook-id'])).toEqual(['msg_flaky', 'msg_flaky', 'msg_flaky']);
  });

  it('sends a parked row once its destination is back in the config, and until then only looks again now and then', async () => {
    const parked = async () => (await rows()).unknown!;
    const before = await parked();
    expect(before.status).toBe('parked');
    // Not due before the recheck; due after it, and still parked while the destination is missing.
    clock = new Date(before.next_attempt_at.getTime() - 1_000);
    expect((await deliverDueOutbox(deps)).parked).toBe(0);
    clock = before.next_attempt_at;
    expect((await deliverDueOutbox(deps)).parked).toBe(1);
    expect(await parked()).toMatchObject({ status: 'parked', attempts: 0 });

    // The config names it again (a restart with the destination restored): at its next look it goes out.
    const back: DeliveryDeps = { ...deps, destinationOf: (_kind, id) => webhookAt(`${receiver.url}/${id}`) };
    clock = (await parked()).next_attempt_at;
    expect(await deliverDueOutbox(back)).toEqual({ delivered: 1, retrying: 0, dead: 0, parked: 0, deferred: 0, suppressed: 0 });
    expect(await parked()).toMatchObject({ status: 'delivered', attempts: 1, last_status: 200 });
    expect(receiver.received.filter((r) => r.path === '/unknown').map((r) => r.headers['webhook-id'])).toEqual(['msg_unknown']);
  });

  it('takes back a row whose worker died mid-delivery once its lease runs out', async () => {
    await store.db
      .insertInto('outbox')
      .values({ message_id: 'msg_lease', destination_kind: 'channel', destination_id: 'ok', event_type: 'ticket.created', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
      .execute();
    // A worker that claims and then crashes: simulated by a sender that never records an outcome.
    let claimed!: () => void;
    const sending = new Promise<void>((resolve) => (claimed = resolve));
    const hanging = { ...webhookConnector, sendMessage: () => (claimed(), new Promise<never>(() => {})) };
    const crashed = deliverDueOutbox({ ...deps, destinationOf: (_kind, id) => webhookAt(`${receiver.url}/${id}`, hanging) });
    await sending;
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 0, retrying: 0, dead: 0, parked: 0, deferred: 0, suppressed: 0 });
    clock = new Date(clock.getTime() + (policy.timeoutSeconds + 31) * 1000);
    expect(await deliverDueOutbox(deps)).toEqual({ delivered: 1, retrying: 0, dead: 0, parked: 0, deferred: 0, suppressed: 0 });
    void crashed;
  });
});

describe('a destination with a rate limit', () => {
  it('is sent to no faster than it allows: an early row waits, unclaimed, for its slot', async () => {
    const store = await createTestStore();
    const receiver = await startWebhookReceiver(() => 200);
    try {
      let clock = new Date('2026-11-24T09:00:00Z');
      const slow = { ...webhookConnector, minIntervalMs: () => 2_500 };
      const deps: DeliveryDeps = {
        db: store.db, now: () => clock, policy, log: silentLogger, nextSlot: new Map(),
        destinationOf: () => webhookAt(`${receiver.url}/slow`, slow),
      };
      for (const n of [1, 2]) {
        await store.db
          .insertInto('outbox')
          .values({ message_id: `msg_rate_${n}`, destination_kind: 'helpdesk', destination_id: 'slow', event_type: 'target.failing', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
          .execute();
      }
      expect((await deliverDueOutbox(deps)).delivered).toBe(1);
      const waiting = await store.db.selectFrom('outbox').select(['status', 'claims', 'attempts', 'next_attempt_at']).where('message_id', '=', 'msg_rate_2').executeTakeFirstOrThrow();
      expect(waiting).toEqual({ status: 'pending', claims: 0, attempts: 0, next_attempt_at: new Date(clock.getTime() + 2_500) });
      clock = new Date(clock.getTime() + 2_500);
      expect((await deliverDueOutbox(deps)).delivered).toBe(1);
      expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_rate_1', 'msg_rate_2']);
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});

describe('the delivery loop and a rate-limited destination', () => {
  it('drains at the destination\'s own pace: it waits for each free slot instead of the next poll', async () => {
    const store = await createTestStore();
    const receiver = await startWebhookReceiver(() => 200);
    try {
      let clock = new Date('2026-11-24T10:00:00Z');
      const slept: number[] = [];
      const deps: DeliveryDeps = {
        db: store.db, now: () => clock, policy, log: silentLogger, nextSlot: new Map(),
        destinationOf: () => webhookAt(`${receiver.url}/slow`, { ...webhookConnector, minIntervalMs: () => 2_500 }),
      };
      for (const n of [1, 2, 3, 4]) {
        await store.db
          .insertInto('outbox')
          .values({ message_id: `msg_pace_${n}`, destination_kind: 'helpdesk', destination_id: 'slow', event_type: 'target.failing', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
          .execute();
      }
      const report = await handleDueDeliveries({
        ...deps,
        sleep: async (ms) => {
          slept.push(ms);
          clock = new Date(clock.getTime() + ms);
        },
      });
      expect(report).toMatchObject({ delivered: 4, retrying: 0, dead: 0 });
      expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_pace_1', 'msg_pace_2', 'msg_pace_3', 'msg_pace_4']);
      // Three waits of one interval between four sends, and one more after the last before it sees nothing is left.
      expect(slept).toEqual([2_500, 2_500, 2_500, 2_500]);
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});

describe('the delivery loop of a stopping worker', () => {
  it('sends the batch it claimed and leaves the rest of a backlog to the next worker', async () => {
    const store = await createTestStore();
    const receiver = await startWebhookReceiver(() => 200);
    try {
      const clock = new Date('2026-11-24T12:00:00Z');
      for (let n = 0; n < 25; n++) {
        await store.db
          .insertInto('outbox')
          .values({ message_id: `msg_backlog_${n}`, destination_kind: 'helpdesk', destination_id: 'hook', event_type: 'target.failing', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
          .execute();
      }
      const deps: DeliveryDeps = { db: store.db, now: () => clock, policy, log: silentLogger, destinationOf: () => webhookAt(`${receiver.url}/hook`) };
      // One claim takes 20 rows: a stopping worker sends those, then returns.
      expect(await handleDueDeliveries(deps, { stopping: () => true })).toMatchObject({ delivered: 20 });
      const left = await store.db.selectFrom('outbox').select('message_id').where('status', '=', 'pending').execute();
      expect(left).toHaveLength(5);
      // A running one drains the rest.
      expect(await handleDueDeliveries(deps)).toMatchObject({ delivered: 5 });
      expect(receiver.received).toHaveLength(25);
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});

describe('a delivery that makes several requests to a rate-limited destination', () => {
  it('spaces its requests too: the second waits for the next free slot', async () => {
    const store = await createTestStore();
    try {
      let clock = new Date('2026-11-24T11:00:00Z');
      const requestsAt: number[] = [];
      const slept: number[] = [];
      // A lookup, then a create: what Usedesk does for a create whose first answer never came.
      const twoRequests = {
        ...webhookConnector,
        minIntervalMs: () => 2_500,
        sendMessage: async (_config: unknown, _message: unknown, ctx: SendContext) => {
          for (let i = 0; i < 2; i++) {
            await ctx.pace?.();
            requestsAt.push(clock.getTime());
          }
          return { ok: true as const, status: 200 };
        },
      };
      const nextSlot = new Map<string, number>();
      const deps: DeliveryDeps = {
        db: store.db, now: () => clock, policy, log: silentLogger, nextSlot,
        destinationOf: () => webhookAt('http://127.0.0.1:9/unused', twoRequests),
        sleep: async (ms) => {
          slept.push(ms);
          clock = new Date(clock.getTime() + ms);
        },
      };
      await store.db
        .insertInto('outbox')
        .values({ message_id: 'msg_two', destination_kind: 'helpdesk', destination_id: 'ud', event_type: 'target.failing', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
        .execute();
      const start = clock.getTime();
      expect((await deliverDueOutbox(deps)).delivered).toBe(1);
      expect(requestsAt.map((at) => at - start)).toEqual([0, 2_500]);
      expect(slept).toEqual([2_500]);
      expect(nextSlot.get('helpdesk:ud')).toBe(start + 5_000);
    } finally {
      await store.close();
    }
  });
});

describe('destination health', () => {
  let store: Store;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let clock = new Date('2026-11-23T09:00:00Z');
  let deps: DeliveryDeps;
  const logs: { level: number; msg: string; destination?: string }[] = [];
  // Paths that answer 500 for now; everything else takes the message.
  const down = new Set<string>();
  let seq = 0;

  beforeAll(async () => {
    store = await createTestStore();
    receiver = await startWebhookReceiver((path) => (down.has(path) ? 500 : path === '/gone' ? 410 : path === '/picky' ? 422 : 200));
    deps = {
      db: store.db,
      now: () => clock,
      policy: { ...policy, maxAttempts: 8 },
      log: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
      random: () => 1,
      destinationOf: (_kind, id) => (id === 'unknown' ? undefined : webhookAt(`${receiver.url}/${id}`)),
      channels: [
        { id: 'ops', events: ['destination.failing', 'target.failing'] },
        { id: 'chat', events: ['ticket.created', 'destination.failing'] },
        { id: 'quiet', events: ['ticket.created'] },
      ],
      planDestinationAlerts,
    };
  });
  afterAll(async () => {
    await store?.close();
    await receiver?.close();
  });

  const queue = async (kind: 'helpdesk' | 'channel', id: string, count: number) => {
    for (let i = 0; i < count; i++) {
      await store.db
        .insertInto('outbox')
        .values({ message_id: `msg_h${++seq}`, destination_kind: kind, destination_id: id, event_type: 'target.failing', payload: JSON.stringify({ n: seq }), status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
        .execute();
    }
  };
  const health = (kind: 'helpdesk' | 'channel', id: string) =>
    store.db
      .selectFrom('destination_health')
      .select(['consecutive_failures', 'failing_since', 'last_status', 'last_error'])
      .where('destination_kind', '=', kind)
      .where('destination_id', '=', id)
      .executeTakeFirst();
  const failingAlerts = () =>
    store.db
      .selectFrom('alerts')
      .innerJoin('outbox', 'outbox.id', 'alerts.outbox_id')
      .select(['alerts.channel_id', 'alerts.brand_id', 'alerts.ticket_id', 'outbox.message_id', 'outbox.event_type', 'outbox.payload'])
      .where('alerts.kind', '=', 'destination_failing')
      .orderBy('alerts.id')
      .execute();
  /** Runs the loop until nothing is due, moving the clock to each next attempt. */
  const drain = async (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      await deliverDueOutbox(deps);
      clock = new Date(clock.getTime() + 60_000);
    }
  };

  it('turns failing after three failed attempts in a row, alerting each subscribed channel once, never the failing one', async () => {
    down.add('/chat');
    await queue('channel', 'chat', 2);
    await deliverDueOutbox(deps);
    expect(await health('channel', 'chat')).toMatchObject({ consecutive_failures: 2, failing_since: null, last_status: 500 });
    expect(await failingAlerts()).toEqual([]);

    // A third row, sent before the first two are due again: the third failure in a row.
    const startedAt = new Date(clock.getTime() + 1_000);
    clock = startedAt;
    await queue('channel', 'chat', 1);
    await deliverDueOutbox(deps);
    expect(await health('channel', 'chat')).toMatchObject({ consecutive_failures: 3, failing_since: startedAt });
    const alerts = await failingAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      channel_id: 'ops',
      brand_id: null,
      ticket_id: null,
      message_id: `msg_destination_channel_chat_failing_${startedAt.getTime()}_channel_ops`,
      event_type: 'destination.failing',
      payload: {
        type: 'destination.failing',
        timestamp: startedAt.toISOString(),
        data: {
          destination: { kind: 'channel', id: 'chat' },
          failing_since: startedAt.toISOString(),
          consecutive_failures: 3,
          last_status: 500,
          alert: { kind: 'destination_failing' },
        },
      },
    });

    // Failing on changes nothing more: one alert per episode. The alert itself reaches ops.
    await drain(3);
    expect(await health('channel', 'chat')).toMatchObject({ failing_since: startedAt });
    expect((await health('channel', 'chat'))!.consecutive_failures).toBeGreaterThan(3);
    expect(await failingAlerts()).toHaveLength(1);
    const heard = receiver.received.filter((r) => r.path === '/ops').map((r) => JSON.parse(r.body) as { type: string });
    expect(heard.map((b) => b.type)).toEqual(['destination.failing']);
    expect(logs.filter((l) => l.destination === 'channel:chat' && l.msg.startsWith('destination is failing'))).toHaveLength(1);
  });

  it('ends the episode at the next success, and alerts again for a new episode', async () => {
    down.delete('/chat');
    await drain(1);
    expect(await health('channel', 'chat')).toMatchObject({ consecutive_failures: 0, failing_since: null, last_status: 200, last_error: null });
    expect(logs.filter((l) => l.destination === 'channel:chat' && l.msg.startsWith('destination recovered'))).toHaveLength(1);

    down.add('/chat');
    const again = clock;
    await queue('channel', 'chat', 3);
    await deliverDueOutbox(deps);
    expect(await health('channel', 'chat')).toMatchObject({ consecutive_failures: 3, failing_since: again });
    expect((await failingAlerts()).map((a) => a.message_id)).toEqual([
      expect.stringMatching(/^msg_destination_channel_chat_failing_\d+_channel_ops$/),
      `msg_destination_channel_chat_failing_${again.getTime()}_channel_ops`,
    ]);
    down.delete('/chat');
    await drain(2);
  });

  it('turns a destination failing at once when a delivery goes dead, and tells the other channels', async () => {
    await queue('helpdesk', 'gone', 1);
    await deliverDueOutbox(deps);
    const failing = await health('helpdesk', 'gone');
    expect(failing).toMatchObject({ consecutive_failures: 1, failing_since: clock, last_status: 410 });
    const alerts = (await failingAlerts()).filter((a) => a.message_id.startsWith('msg_destination_helpdesk_gone_'));
    expect(alerts.map((a) => a.channel_id)).toEqual(['ops', 'chat']);
  });

  it('one ticket refused (a 422, dead at once) is no failing destination', async () => {
    const picky: DeliveryDeps = { ...deps, destinationOf: (_kind, id) => webhookAt(`${receiver.url}/${id}`, { ...webhookConnector, sendMessage: async (config, message, ctx) => {
      const outcome = await webhookConnector.sendMessage!(config, message, ctx);
      return outcome.ok ? outcome : { ...outcome, gone: true };
    } }) };
    await queue('helpdesk', 'picky', 1);
    expect((await deliverDueOutbox(picky)).dead).toBe(1);
    expect(await health('helpdesk', 'picky')).toMatchObject({ consecutive_failures: 1, failing_since: null, last_status: 422 });
    expect((await failingAlerts()).filter((a) => a.message_id.startsWith('msg_destination_helpdesk_picky_'))).toEqual([]);
  });

  it('counts nothing for a parked row: no attempt reached the destination', async () => {
    await queue('helpdesk', 'unknown', 1);
    expect((await deliverDueOutbox(deps)).parked).toBe(1);
    expect(await health('helpdesk', 'unknown')).toBeUndefined();
  });
});

describe('a destination that keeps answering 429', () => {
  it('keeps the row queued past maxAttempts, at its Retry-After, and does not count it as failing; it goes out once allowed', async () => {
    const store = await createTestStore();
    let allowed = false;
    const receiver = await startWebhookReceiver(() => (allowed ? 200 : 429));
    try {
      let clock = new Date('2026-11-22T10:00:00Z');
      const deps: DeliveryDeps = {
        db: store.db, now: () => clock, policy, log: silentLogger, random: () => 1,
        destinationOf: () => webhookAt(`${receiver.url}/busy`),
      };
      await store.db
        .insertInto('outbox')
        .values({ message_id: 'msg_busy', destination_kind: 'channel', destination_id: 'busy', event_type: 'target.failing', payload: JSON.stringify({ type: 'target.failing' }), status: 'pending', attempts: 0, next_attempt_at: clock, created_at: clock })
        .execute();
      for (let i = 0; i < policy.maxAttempts + 2; i++) {
        expect(await deliverDueOutbox(deps)).toMatchObject({ retrying: 1, dead: 0 });
        clock = (await store.db.selectFrom('outbox').select('next_attempt_at').executeTakeFirstOrThrow()).next_attempt_at;
      }
      expect(await store.db.selectFrom('outbox').select(['status', 'attempts', 'last_status']).executeTakeFirstOrThrow())
        .toEqual({ status: 'pending', attempts: policy.maxAttempts + 2, last_status: 429 });
      expect(await store.db.selectFrom('destination_health').selectAll().execute()).toEqual([]);
      allowed = true;
      expect(await deliverDueOutbox(deps)).toMatchObject({ delivered: 1 });
      expect(receiver.received).toHaveLength(policy.maxAttempts + 3);
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});
