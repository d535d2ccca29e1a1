import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { crawlers } from '../crawlers/registry.ts';
import type { MentionDraft } from '../crawlers/types.ts';
import type { DeliveryDeps } from '../delivery/outbox.ts';
import { createLogger } from '../log/logger.ts';
import { ingestPage, type PageScope } from '../pipeline/ingest.ts';
import { handleDueDeliveries } from '../scheduler/worker.ts';
import { benchDatabase } from './runtime.ts';
import { destinationsOf, ticketPolicyOf } from '../scheduler/sync-config.ts';
import { prng } from '../sentiment/train/sgd.ts';
import { upsertBrand } from '../store/brands.ts';
import { migrateToLatest, type Store } from '../store/connect.ts';
import { startUsedeskFake, type UsedeskFake } from '../tests/helpers/usedesk-fake.ts';
import { startZendeskFake } from '../tests/helpers/zendesk-fake.ts';

/**
 * Tickets into Usedesk and Zendesk (the test fakes, on localhost), through the product's own path: pages go
 * through `ingestPage` (tickets and their outbox rows in the page's transaction), and the worker's delivery
 * loop (`handleDueDeliveries`, every 2 s, woken after each page as the worker is after a crawl that opened
 * tickets) sends them with the connectors, rate limits (`nextSlot`) and backoff of the product.
 *
 *   helpdesk          outbox rows per ticket, helpdesk tickets per ours (duplicates), with copies of stories
 *   helpdesk-drain    20 tickets at the default Usedesk 0.4 req/s and Zendesk 100/min: what a user waits
 *   helpdesk-outage   both helpdesks answer 503 for BENCH_OUTAGE_S (60) s of real time from the tickets' commit
 *   helpdesk-latency  a page of 10 new tickets every second for BENCH_LATENCY_S (30) s: commit → create received
 *
 * helpdesk, outage and latency run at BENCH_USEDESK_RPS (50) and BENCH_ZENDESK_RPM (3000), so that neither
 * helpdesk's default rate bounds them; the drain runs at the defaults (0.4 req/s, 100/min), beside the outage.
 * BENCH_PARTS=helpdesk,drain,outage,latency picks runs. Every line says which rates it ran at.
 */

const USEDESK_TOKEN = 'bench-usedesk-token-0123456789abcdef';
const ZENDESK = { email: 'agent@bench.example', token: 'zd-bench-token-0123456789', webhookSecret: 'zd-bench-webhook-secret' };
const POLL_MS = 2_000;
const BRAND = 'Ромашка';

export interface HelpdeskBenchOptions {
  /** Tickets opened in the deliveries-per-ticket run (BENCH_N). */
  n: number;
  databaseUrl: string | undefined;
  only?: string | undefined;
  /** How long both helpdesks are down (BENCH_OUTAGE_S). */
  outageSeconds: number;
  /** How long a page of 10 tickets arrives every second (BENCH_LATENCY_S). */
  latencySeconds: number;
  /** The rates of the fast runs (helpdesk, outage, latency): Usedesk req/s, Zendesk req/min. */
  usedeskRps: number;
  zendeskRpm: number;
  /** Which runs (BENCH_PARTS=helpdesk,drain,outage,latency); all when absent. */
  parts?: readonly HelpdeskPart[] | undefined;
}

export type HelpdeskPart = 'helpdesk' | 'drain' | 'outage' | 'latency';

export async function benchHelpdesk(opts: HelpdeskBenchOptions): Promise<void> {
  const kinds = (opts.databaseUrl ? (['pglite', 'postgres'] as const) : (['pglite'] as const)).filter((k) => !opts.only || k === opts.only);
  const fast = { usedeskRps: opts.usedeskRps, zendeskRpm: opts.zendeskRpm };
  const runs = (part: HelpdeskPart) => !opts.parts || opts.parts.includes(part);
  for (const db of kinds) {
    if (runs('helpdesk')) print({ bench: 'helpdesk', db, ...(await withRig(db, opts.databaseUrl, fast, (rig) => deliveriesPerTicket(rig, opts.n))) });
    // The drain runs while the outage waits (each on its own database, fakes and loop): both are bound by
    // time, rate limits and backoff, not by this process's CPU, and together they keep a run under 5 minutes.
    // The drain starts once the outage's store is set up and its helpdesks are down, so that neither's setup
    // (migrations are CPU work) holds up the other's sends.
    let down = () => {};
    const outageDown = new Promise<void>((resolve) => (down = resolve));
    const [recovered, drained] = await Promise.all([
      runs('outage') ? withRig(db, opts.databaseUrl, fast, (rig) => outage(rig, 20, opts.outageSeconds, down)) : (down(), null),
      runs('drain') ? outageDown.then(() => withRig(db, opts.databaseUrl, { usedeskRps: null, zendeskRpm: null }, (rig) => drain(rig, 20))) : null,
    ]);
    if (drained) print({ bench: 'helpdesk-drain', db, ...drained });
    if (recovered) print({ bench: 'helpdesk-outage', db, ...recovered });
    if (runs('latency')) {
      for (const line of await withRig(db, opts.databaseUrl, fast, (rig) => latency(rig, opts.latencySeconds))) print({ bench: 'helpdesk-latency', db, ...line });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The rig: a fresh database, both fakes, the config read by the real loader, the worker's delivery loop.

type ZendeskFake = Awaited<ReturnType<typeof startZendeskFake>>;

interface Rig {
  store: Store;
  config: EarshotConfig;
  usedesk: UsedeskFake;
  zendesk: ZendeskFake;
  /** Real time when each helpdesk received the create of our ticket (the first, if several), by our id. */
  received: { usedesk: Map<string, number>; zendesk: Map<string, number> };
  /** Warnings and errors of the delivery path, by message. */
  logged: Record<string, number>;
  /** Real time of every request each fake received, in order. */
  arrivals: { usedesk: number[]; zendesk: number[] };
  ingest(drafts: readonly MentionDraft[]): Promise<{ tickets: number; new: number }>;
  loop: DeliveryLoop;
  rates: { usedesk_rps: number; zendesk_rpm: number };
}

async function withRig<T>(
  kind: 'pglite' | 'postgres',
  databaseUrl: string | undefined,
  rates: { usedeskRps: number | null; zendeskRpm: number | null },
  run: (rig: Rig) => Promise<T>,
): Promise<T> {
  const database = await openBenchStore(kind, databaseUrl);
  const usedesk = await startUsedeskFake({ token: USEDESK_TOKEN });
  const zendesk = await startZendeskFake({ ...ZENDESK });
  const received = { usedesk: new Map<string, number>(), zendesk: new Map<string, number>() };
  // The fakes' own hooks, run when a create is stored: the moment the helpdesk has the ticket.
  usedesk.onCreate = (t) => {
    if (t.additional_id !== null && !received.usedesk.has(t.additional_id)) received.usedesk.set(t.additional_id, Date.now());
  };
  zendesk.onCreate = (t) => {
    if (t.external_id !== null && !received.zendesk.has(t.external_id)) received.zendesk.set(t.external_id, Date.now());
  };
  // Every request's arrival, noted as the fake records it: what the rate limits are checked against.
  const arrivals = { usedesk: noteArrivals(usedesk.requests), zendesk: noteArrivals(zendesk.requests) };
  // What the delivery path logs at warn and above, counted by message (failed sends, dead rows, lost releases).
  const logged: Record<string, number> = {};
  const log = createLogger({
    level: 'warn',
    stream: {
      write(line: string) {
        const { msg, err } = JSON.parse(line) as { msg?: string; err?: unknown };
        const key = `${msg ?? ''}${err ? `: ${typeof err === 'string' ? err : (err as { message?: string }).message ?? ''}` : ''}`.slice(0, 200);
        logged[key] = (logged[key] ?? 0) + 1;
      },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-helpdesk-'));
  let loop: DeliveryLoop | null = null;
  try {
    const file = join(dir, 'earshot.yaml');
    writeFileSync(file, [
      `brands: [{ name: ${BRAND}, keywords: [${BRAND}, romashka] }]`,
      'teams: [{ id: support, name: Support }]',
      'routing: { defaultTeam: support }',
      'helpdesks:',
      `  - { id: ud, type: usedesk, url: "${usedesk.url}", apiToken: "\${USEDESK_TOKEN}"${rates.usedeskRps === null ? '' : `, requestsPerSecond: ${rates.usedeskRps}`} }`,
      `  - { id: zd, type: zendesk, url: "${zendesk.url}", email: ${ZENDESK.email}, apiToken: "\${ZENDESK_TOKEN}", webhookSecret: "\${ZENDESK_WEBHOOK_SECRET}"${rates.zendeskRpm === null ? '' : `, requestsPerMinute: ${rates.zendeskRpm}`} }`,
    ].join('\n'));
    const config = loadConfig(file, {
      crawlers, env: { USEDESK_TOKEN, ZENDESK_TOKEN: ZENDESK.token, ZENDESK_WEBHOOK_SECRET: ZENDESK.webhookSecret },
    });
    const { store } = database;
    await migrateToLatest(store.db);
    const now = () => new Date();
    const brand = await upsertBrand(store.db, { name: BRAND, keywords: [BRAND, 'romashka'] }, now());
    // Reviews of the brand's own branch and app: every item is the brand's (no keyword needed), as on 2GIS.
    const scope: PageScope = { brands: [{ brand, matcher: null }], targetId: null };
    const policy = ticketPolicyOf(config);
    // As bin/runtime.ts builds them for the worker, with one rate-limit map for the process.
    const deliveryDeps: DeliveryDeps = {
      db: store.db, now, log, policy: config.delivery, destinationOf: destinationsOf(config), nextSlot: new Map<string, number>(),
    };
    loop = startDeliveryLoop(deliveryDeps, POLL_MS);
    const started = loop;
    const ingest = async (drafts: readonly MentionDraft[]) => {
      const counts = await ingestPage({ db: store.db, now, policy }, drafts, scope);
      // The worker delivers at once after a crawl that opened tickets (scheduler/worker.ts).
      if (counts.tickets > 0) started.wake();
      return counts;
    };
    const helpdeskRates = config.helpdesks.map((h) => h as { type: string; requestsPerSecond?: number; requestsPerMinute?: number });
    return await run({
      store, config, usedesk, zendesk, received, arrivals, ingest, loop, logged,
      rates: {
        usedesk_rps: helpdeskRates.find((h) => h.type === 'usedesk')!.requestsPerSecond!,
        zendesk_rpm: helpdeskRates.find((h) => h.type === 'zendesk')!.requestsPerMinute!,
      },
    });
  } finally {
    await loop?.stop();
    await Promise.all([usedesk.close(), zendesk.close()]);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The times `requests.push` is called at: when the fake has read a request, before it answers. */
function noteArrivals(requests: unknown[]): number[] {
  const times: number[] = [];
  const push = requests.push.bind(requests);
  requests.push = (...items: unknown[]) => {
    for (const _ of items) times.push(Date.now());
    return push(...items);
  };
  return times;
}

interface DeliveryLoop {
  wake(): void;
  stop(): Promise<void>;
  /** Rounds that threw (the worker logs them and tries again at the next tick). */
  errors: number;
}

/**
 * The worker's delivery loop (scheduler/worker.ts): `handleDueDeliveries` every `pollMs`, and on `wake`; never
 * two at once, and asked while it runs, it runs once more afterwards.
 */
function startDeliveryLoop(deps: DeliveryDeps, pollMs: number): DeliveryLoop {
  let current: Promise<void> | null = null;
  let again = false;
  let stopping = false;
  const loop: DeliveryLoop = {
    errors: 0,
    wake() {
      if (stopping) return;
      if (current) {
        again = true;
        return;
      }
      current = handleDueDeliveries(deps)
        .then(() => undefined, (err: unknown) => {
          loop.errors++;
          deps.log.warn({ err: (err as Error).message }, 'delivery round failed; trying again');
        })
        .finally(() => {
          current = null;
          if (again) {
            again = false;
            loop.wake();
          }
        });
    },
    async stop() {
      stopping = true;
      clearInterval(timer);
      while (current) await current;
    },
  };
  const timer = setInterval(() => loop.wake(), pollMs);
  loop.wake();
  return loop;
}

/** A fresh store for one run: the runtime bench's database, opened; `drop` closes and removes it. */
async function openBenchStore(kind: 'pglite' | 'postgres', databaseUrl: string | undefined): Promise<{ store: Store; drop: () => Promise<void> }> {
  const database = await benchDatabase(kind, databaseUrl);
  const store = await database.open();
  return { store, drop: async () => { await store.close(); await database.drop(); } };
}

// ---------------------------------------------------------------------------------------------------------
// The runs.

/** N tickets from new stories, some stories copied later (a `ticket.updated` to each helpdesk), all delivered. */
async function deliveriesPerTicket(rig: Rig, n: number) {
  const reviews = new ReviewWriter(1);
  const started = Date.now();
  let opened = 0;
  let copies = 0;
  let stories: MentionDraft[] = [];
  const page = 50;
  // Pages of 50 as a crawl brings them: new stories, and copies of stories of earlier pages (1 in 5 is copied).
  while (opened < n) {
    const fresh = Array.from({ length: Math.min(page, n - opened) }, () => reviews.next());
    const copied = stories.filter((_, i) => i % 5 === 0).map((d) => reviews.copyOf(d));
    const counts = await rig.ingest([...fresh, ...copied]);
    opened += counts.tickets;
    copies += copied.length;
    stories = fresh;
    if (counts.tickets === 0) throw new Error('a page of new stories opened no ticket: are the reviews actionable?');
  }
  const copiedLast = stories.filter((_, i) => i % 5 === 0).map((d) => reviews.copyOf(d));
  await rig.ingest(copiedLast);
  copies += copiedLast.length;
  const ingestedS = (Date.now() - started) / 1000;
  await settle(rig, 600_000);
  const drainS = (Date.now() - started) / 1000;

  const tickets = await rig.store.db.selectFrom('tickets').select('id').execute();
  const ours = new Set(tickets.map((t) => t.id));
  const outbox = await rig.store.db.selectFrom('outbox').select(['event_type', 'status', 'attempts', 'destination_id']).execute();
  const ud = rig.usedesk.tickets.map((t) => t.additional_id ?? '');
  const zd = [...rig.zendesk.tickets.values()].map((t) => t.external_id ?? '');
  const joined = await rig.store.db.selectFrom('mentions').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return {
    tickets: tickets.length,
    mentions: Number(joined.n),
    copies,
    outbox_rows: outbox.length,
    outbox_by_event: countBy(outbox.map((o) => o.event_type)),
    deliveries_per_ticket: round(outbox.length / tickets.length),
    attempts_per_delivery: round(outbox.reduce((s, o) => s + o.attempts, 0) / outbox.length),
    not_delivered: outbox.filter((o) => o.status !== 'delivered').length,
    helpdesk_tickets_usedesk: ud.length,
    helpdesk_tickets_zendesk: zd.length,
    duplicates: ud.length - ours.size + (zd.length - ours.size),
    missing: [...ours].filter((id) => !ud.includes(id)).length + [...ours].filter((id) => !zd.includes(id)).length,
    helpdesk_comments: rig.usedesk.comments.length + [...rig.zendesk.tickets.values()].reduce((s, t) => s + t.comments.length - 1, 0),
    http_requests: { usedesk: rig.usedesk.requests.length, zendesk: rig.zendesk.requests.length },
    ...rig.rates,
    rate: rateCheck(rig),
    ingest_s: round(ingestedS),
    until_delivered_s: round(drainS),
    loop_errors: rig.loop.errors,
    claims_left_to_lease: await leasedAway(rig),
    logged: rig.logged,
  };
}

/** 20 tickets in one page at the default rates: how long until the last reaches each helpdesk. */
async function drain(rig: Rig, n: number) {
  const reviews = new ReviewWriter(2);
  const { tickets } = await rig.ingest(Array.from({ length: n }, () => reviews.next()));
  await settle(rig, 600_000);
  const created = await createdAt(rig);
  const drainOf = (received: Map<string, number>) => {
    const last = Math.max(...received.values());
    const first = Math.min(...created.values());
    return round((last - first) / 1000);
  };
  const perTicket = (received: Map<string, number>) => [...received].map(([id, at]) => at - created.get(id)!).sort((a, b) => a - b);
  const ud = perTicket(rig.received.usedesk);
  const zd = perTicket(rig.received.zendesk);
  const udInterval = 1 / rig.rates.usedesk_rps;
  const zdInterval = 60 / rig.rates.zendesk_rpm;
  return {
    tickets, ...rig.rates,
    drain_s_usedesk: drainOf(rig.received.usedesk),
    // The rate alone would allow: the first at once, then one per interval.
    drain_s_usedesk_at_rate: round((tickets - 1) * udInterval),
    drain_s_zendesk: drainOf(rig.received.zendesk),
    drain_s_zendesk_at_rate: round((tickets - 1) * zdInterval),
    wait_s_usedesk: { p50: round(quantile(ud, 0.5) / 1000), max: round((ud.at(-1) ?? NaN) / 1000) },
    wait_s_zendesk: { p50: round(quantile(zd, 0.5) / 1000), max: round((zd.at(-1) ?? NaN) / 1000) },
    usedesk_requests: rig.usedesk.requests.length,
    zendesk_requests: rig.zendesk.requests.length,
    rate: rateCheck(rig),
    claims_left_to_lease: await leasedAway(rig),
    logged: rig.logged,
  };
}

/** Both helpdesks down (503) from before the tickets' commit until `seconds` after it, then up. */
async function outage(rig: Rig, n: number, seconds: number, onDown: () => void = () => {}) {
  const reviews = new ReviewWriter(3);
  rig.usedesk.setDown(true);
  rig.zendesk.setDown(true);
  const { tickets } = await rig.ingest(Array.from({ length: n }, () => reviews.next()));
  const committed = Date.now();
  onDown();
  await sleep(Math.max(0, committed + seconds * 1000 - Date.now()));
  rig.usedesk.setDown(false);
  rig.zendesk.setDown(false);
  const upAt = Date.now();
  await settle(rig, 3_600_000);
  const rows = await rig.store.db.selectFrom('outbox').select(['status', 'attempts', 'delivered_at']).execute();
  const delivered = rows.filter((r) => r.status === 'delivered');
  const attempts = delivered.map((r) => r.attempts).sort((a, b) => a - b);
  const after = delivered.map((r) => (r.delivered_at!.getTime() - upAt) / 1000).sort((a, b) => a - b);
  return {
    outage_s: seconds,
    tickets,
    deliveries: rows.length,
    delivered: delivered.length,
    attempts_p50: quantile(attempts, 0.5),
    attempts_max: attempts.at(-1) ?? null,
    attempts_histogram: countBy(attempts.map(String)),
    dead: rows.filter((r) => r.status === 'dead').length,
    recovered_after_outage_p50_s: round(quantile(after, 0.5)),
    p95: round(quantile(after, 0.95)),
    max: round(after.at(-1) ?? NaN),
    failed_requests_503: rig.usedesk.requests.filter((r) => r.status === 503).length + rig.zendesk.requests.filter((r) => r.status === 503).length,
    helpdesk_tickets_usedesk: rig.usedesk.tickets.length,
    helpdesk_tickets_zendesk: rig.zendesk.tickets.size,
    http_requests: { usedesk: rig.usedesk.requests.length, zendesk: rig.zendesk.requests.length },
    ...rig.rates,
    rate: rateCheck(rig),
    claims_left_to_lease: await leasedAway(rig),
    logged: rig.logged,
    policy: { maxAttempts: rig.config.delivery.maxAttempts, initialDelaySeconds: rig.config.delivery.initialDelaySeconds, maxDelaySeconds: rig.config.delivery.maxDelaySeconds },
  };
}

/** A page of 10 new tickets every second for `seconds`: per ticket, from its commit to each helpdesk's receipt. */
async function latency(rig: Rig, seconds: number) {
  const reviews = new ReviewWriter(4);
  const start = Date.now();
  let pages = 0;
  let tickets = 0;
  let late = 0;
  for (let k = 0; k < seconds; k++) {
    const due = start + k * 1000;
    if (Date.now() > due + 500) late++;
    await sleep(Math.max(0, due - Date.now()));
    tickets += (await rig.ingest(Array.from({ length: 10 }, () => reviews.next()))).tickets;
    pages++;
  }
  await settle(rig, 600_000);
  const created = await createdAt(rig);
  const leased = await leasedAway(rig);
  return (['usedesk', 'zendesk'] as const).map((helpdesk) => {
    const received = rig.received[helpdesk];
    const ms = [...created].map(([id, at]) => (received.get(id) ?? NaN) - at).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    return {
      helpdesk, tickets, pages, pages_late: late, received: ms.length,
      p50_ms: Math.round(quantile(ms, 0.5)), p95_ms: Math.round(quantile(ms, 0.95)), max_ms: Math.round(ms.at(-1) ?? NaN),
      ...(helpdesk === 'usedesk' ? { usedesk_rps: rig.rates.usedesk_rps } : { zendesk_rpm: rig.rates.zendesk_rpm }),
      poll_ms: POLL_MS,
      claims_left_to_lease: leased,
      logged: rig.logged,
    };
  });
}

/** Waits until no outbox row is pending (delivered or dead), checking every 200 ms. */
async function settle(rig: Rig, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = await rig.store.db.selectFrom('outbox').select('id').where('status', 'in', ['pending', 'parked']).limit(1).execute();
    if (left.length === 0) return;
    if (Date.now() > until) throw new Error(`outbox not settled after ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/**
 * Claims neither tried nor released: a claim counts one, an attempt one, a rate-limited release takes its claim
 * back; what is left over sat out its lease (timeoutSeconds + 30 s) before anyone could claim it again.
 */
async function leasedAway(rig: Rig): Promise<number> {
  const rows = await rig.store.db.selectFrom('outbox').select(['claims', 'attempts']).execute();
  return rows.reduce((n, r) => n + Math.max(0, r.claims - r.attempts), 0);
}

async function createdAt(rig: Rig): Promise<Map<string, number>> {
  const rows = await rig.store.db.selectFrom('tickets').select(['id', 'created_at']).execute();
  return new Map(rows.map((r) => [r.id, r.created_at.getTime()]));
}

// ---------------------------------------------------------------------------------------------------------
// Reviews: negative Russian and English reviews with 1–2 stars, each a story of its own (the slots make two
// reviews differ in most of their word 3-shingles), and copies that join their story.

const RU = {
  open: [
    'Была сегодня в {place}, и это худший визит за весь год.',
    'Заказывала {product} через приложение {brand} на {street}.',
    'Вчера вечером зашёл в {place} за {product}.',
    'Третий раз пытаюсь получить {product} в {place}, и снова мимо.',
    'Оформила заказ на {product} ещё {day}, номер заказа {order}.',
    'Пишу уже {n}-й раз, потому что {brand} не отвечает в чате.',
    'Ходим в {place} давно, но после {day} больше не хочется.',
    'Курьер {brand} должен был привезти {product} на {street} к {hour}:00.',
    'Купил {product} в {place} за {amount} тенге.',
    'Мама попросила забрать {product} из {place}, я приехал к {hour}:00.',
    'Пользуюсь картой {brand} {n} лет, но такого ещё не было.',
    'В {place} сменился персонал, и сервис упал ниже плинтуса.',
  ],
  problem: [
    'Прождали {n} минут, никто к нам так и не подошёл.',
    'С карты списали {amount} тенге дважды, а чек выдали один.',
    'Вместо {product} привезли что-то холодное и помятое.',
    'Кассир {name} нахамила и отказалась пробить скидку.',
    'Приложение вылетает на оплате, деньги при этом списываются.',
    'Срок годности у {product} истёк ещё {day}, продали как ни в чём не бывало.',
    'Заказ отменили без объяснений через {n} часов ожидания.',
    'Администратор {name} сказал, что жалобы они не принимают.',
    'На {street} курьер не нашёл подъезд и просто уехал с заказом.',
    'В зале грязно, на столах крошки, кондиционер не работает.',
    'Бонусы за {product} не начислили, в поддержке разводят руками.',
    'Упаковка порвана, половина {product} высыпалась в пакет.',
  ],
  detail: [
    'Оператор {name} пообещал перезвонить до {hour}:00 и пропал.',
    'В чате ответили шаблоном и закрыли обращение {order}.',
    'На горячей линии {n} минут играла музыка, потом сбросили.',
    'Управляющий {name} даже не вышел поговорить.',
    'Жалобную книгу не дали, сказали, что её нет.',
    'Возврат {amount} тенге обещают уже {n} дней.',
    'Рядом стояли ещё {n} человек с такой же проблемой.',
    'Фото чека и упаковки отправила в поддержку {day}, ответа нет.',
    'Охранник {name} попросил нас выйти, когда мы начали снимать.',
    'Номер обращения {order}, но статус до сих пор «на рассмотрении».',
  ],
  close: [
    'Верните деньги, иначе пойду в Защиту прав потребителей.',
    'Больше ни ногой в {place}, и друзьям не советую.',
    'Ставлю {stars}, потому что ноль поставить нельзя.',
    'Требую разобраться с {name} и вернуть {amount} тенге.',
    'Удаляю приложение {brand}, перехожу к конкурентам.',
    'Жду ответа от руководства, а пока это просто позор.',
    'Надеюсь, {brand} хоть как-то отреагирует на этот отзыв.',
    'Сервис на уровне девяностых, очень разочарована.',
  ],
  place: ['филиал на Абая', 'магазин в ТРЦ Мега', 'кофейню у вокзала', 'точку на Достык', 'пункт выдачи в Самале', 'филиал в Керуене', 'кафе на Сатпаева', 'магазин у метро Алатау', 'отделение на Тимирязева', 'точку в Хан Шатыре', 'кофейню на Арбате', 'филиал у Ботанического сада'],
  product: ['капучино', 'пиццу', 'продукты на неделю', 'детское питание', 'торт на день рождения', 'роллы', 'смартфон', 'кроссовки', 'букет', 'кофе в зёрнах', 'бургеры', 'молоко и хлеб'],
  street: ['Абая 150', 'Розыбакиева 37', 'Толе би 12', 'Жандосова 98', 'Гагарина 206', 'Манаса 22', 'Фурманова 41', 'Навои 310', 'Момышулы 4', 'Райымбека 160'],
  name: ['Айгерим', 'Данияр', 'Светлана', 'Ерлан', 'Марина', 'Асель', 'Тимур', 'Ольга', 'Нурлан', 'Жанна', 'Игорь', 'Мадина'],
  day: ['вчера', 'в понедельник', 'на прошлой неделе', 'позавчера', 'в пятницу', 'в выходные', 'три дня назад', 'в начале месяца'],
};

const EN = {
  open: [
    'Visited the {place} today and it was the worst visit this year.',
    'Ordered {product} through the {brand} app to {street}.',
    'Stopped by the {place} last night to pick up {product}.',
    'Third time trying to get {product} at the {place}, and again nothing.',
    'Placed an order for {product} {day}, order number {order}.',
    'Writing for the {n}th time because {brand} never answers the chat.',
    'We have been regulars at the {place} for years, not anymore after {day}.',
    'The {brand} courier was supposed to bring {product} to {street} by {hour}:00.',
    'Bought {product} at the {place} for {amount} dollars.',
    'Been a {brand} card holder for {n} years and never seen anything like this.',
    'New staff at the {place} and the service went straight downhill.',
    'My mom asked me to collect {product} from the {place}, I got there at {hour}:00.',
  ],
  problem: [
    'We waited {n} minutes and nobody ever came to our table.',
    'My card was charged {amount} dollars twice and I got one receipt.',
    'Instead of {product} they delivered something cold and crushed.',
    'The cashier {name} was rude and refused to apply my discount.',
    'The app crashes at checkout but still takes the money.',
    'The {product} expired {day} and they sold it anyway.',
    'They cancelled the order without explanation after {n} hours of waiting.',
    'The manager {name} said they do not accept complaints.',
    'The courier could not find the entrance on {street} and just left with my order.',
    'The place is filthy, crumbs everywhere, the air conditioning is broken.',
    'No loyalty points for {product}, support just shrugs.',
    'The bag was torn and half of the {product} spilled out.',
  ],
  detail: [
    'The agent {name} promised to call back by {hour}:00 and vanished.',
    'Chat support sent a canned reply and closed ticket {order}.',
    'The hotline played music for {n} minutes and then hung up.',
    'The store manager {name} would not even come out to talk.',
    'They refused to give me the complaints book.',
    'A refund of {amount} dollars has been promised for {n} days now.',
    'There were {n} other people with the same problem.',
    'I sent photos of the receipt to support {day}, no answer.',
    'The guard {name} asked us to leave when we started filming.',
    'Case number {order} is still "under review".',
  ],
  close: [
    'Give me my money back or I will file a consumer protection complaint.',
    'Never setting foot in the {place} again, and I tell my friends not to.',
    '{stars} only because zero is not an option.',
    'I demand that {name} is dealt with and my {amount} dollars refunded.',
    'Deleting the {brand} app and switching to a competitor.',
    'Waiting for management to respond, until then this is a disgrace.',
    'I hope {brand} at least reacts to this review.',
    'Service straight out of the nineties, very disappointed.',
  ],
  place: ['Abay Avenue branch', 'Mega mall store', 'station coffee shop', 'Dostyk outlet', 'Samal pickup point', 'Keruen branch', 'Satpayev cafe', 'Alatau metro store', 'Timiryazev office', 'Khan Shatyr outlet', 'Arbat coffee shop', 'Botanical Garden branch'],
  product: ['a cappuccino', 'a pizza', 'weekly groceries', 'baby food', 'a birthday cake', 'sushi rolls', 'a smartphone', 'sneakers', 'a bouquet', 'coffee beans', 'burgers', 'milk and bread'],
  street: ['150 Abay Ave', '37 Rozybakiev St', '12 Tole Bi St', '98 Zhandosov St', '206 Gagarin Ave', '22 Manas St', '41 Furmanov St', '310 Navoi St', '4 Momyshuly St', '160 Raiymbek Ave'],
  name: ['Aigerim', 'Daniyar', 'Svetlana', 'Yerlan', 'Marina', 'Assel', 'Timur', 'Olga', 'Nurlan', 'Zhanna', 'Igor', 'Madina'],
  day: ['yesterday', 'on Monday', 'last week', 'the day before yesterday', 'on Friday', 'over the weekend', 'three days ago', 'at the start of the month'],
};

/** Deterministic reviews from a seed: Russian on 2GIS, English on the App Store, 1 or 2 stars. */
class ReviewWriter {
  private readonly rng: () => number;
  private serial = 0;
  private readonly run: number;

  constructor(seed: number) {
    this.rng = prng(seed);
    this.run = seed;
  }

  next(): MentionDraft {
    const i = this.serial++;
    const ru = i % 2 === 0;
    const bank = ru ? RU : EN;
    const pick = <T>(list: readonly T[]) => list[Math.floor(this.rng() * list.length)]!;
    const stars = 1 + Math.floor(this.rng() * 2);
    const fill = (template: string) =>
      template.replace(/\{(\w+)\}/g, (_, slot: string) => {
        switch (slot) {
          case 'brand': return ru ? BRAND : 'Romashka';
          case 'n': return String(2 + Math.floor(this.rng() * 58));
          case 'hour': return String(9 + Math.floor(this.rng() * 13));
          case 'amount': return String(500 + Math.floor(this.rng() * 49_500));
          case 'order': return `${String.fromCharCode(65 + Math.floor(this.rng() * 26))}-${100_000 + Math.floor(this.rng() * 900_000)}`;
          case 'stars': return ru ? `${stars} ${stars === 1 ? 'звезду' : 'звезды'}` : `${stars} star${stars === 1 ? '' : 's'}`;
          default: return pick(bank[slot as 'place' | 'product' | 'street' | 'name' | 'day']);
        }
      });
    const text = [pick(bank.open), pick(bank.problem), pick(bank.detail), pick(bank.problem), pick(bank.close)].map(fill).join(' ');
    const author = pick(bank.name);
    return {
      source: ru ? '2gis' : 'app-store',
      externalId: `bench-${this.run}-${i}`,
      url: ru ? `https://2gis.kz/almaty/firm/70000001000000042/review/${this.run}${i}` : null,
      author: { name: `${author} ${String.fromCharCode(1040 + (i % 32))}.` },
      title: ru ? null : fill(pick(['Terrible service at the {place}', 'Never again, {brand}', 'Charged twice, no help', 'Worst experience at {street}'])),
      text,
      rating: stars,
      publishedAt: new Date(Date.now() - Math.floor(this.rng() * 6 * 3_600_000)).toISOString(),
      lang: null,
      metrics: {},
      reply: null,
      parentExternalId: null,
    };
  }

  /** Another author's review repeating the story with a line of their own: it joins the story's ticket. */
  copyOf(original: MentionDraft): MentionDraft {
    const i = this.serial++;
    const ru = original.source === '2gis';
    return {
      ...original,
      externalId: `bench-${this.run}-${i}`,
      url: original.url === null ? null : `${original.url}-copy${i}`,
      author: { name: ru ? `Гость ${i}` : `Guest ${i}` },
      text: `${ru ? 'У меня точно так же:' : 'Same thing happened to me:'} ${original.text}`,
      rating: 1,
      publishedAt: new Date().toISOString(),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------

/**
 * The configured limits held to, as each helpdesk saw them: the shortest gap between two requests, and the
 * most requests in any window of 10 intervals (10 at the configured rate; a send's own latency moves single
 * requests closer together, so the window is what a helpdesk's per-second or per-minute counter sees).
 */
function rateCheck(rig: Rig) {
  const check = (times: readonly number[], intervalMs: number) => {
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 10 * intervalMs) j++;
      most = Math.max(most, i - j + 1);
    }
    return { interval_ms: round(intervalMs), min_gap_ms: gaps.length > 0 ? Math.min(...gaps) : null, max_per_10_intervals: most };
  };
  return {
    usedesk: check(rig.arrivals.usedesk, 1000 / rig.rates.usedesk_rps),
    zendesk: check(rig.arrivals.zendesk, 60_000 / rig.rates.zendesk_rpm),
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
