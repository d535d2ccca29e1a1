import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { EarshotConfig } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { estimateScheduleLoad, describeScheduleLoad } from '../scheduler/capacity.ts';
import { describeThisProcess, recoverDeadProcesses, STALE_AFTER_MS, startHeartbeat } from '../scheduler/processes.ts';
import { startCrawlQueue, type CrawlQueue } from '../scheduler/queue.ts';
import { startScheduler, type Scheduler } from '../scheduler/scheduler.ts';
import { sweepAlerts, startActionPolling } from '../scheduler/alert-sweep.ts';
import { sweepSlaClocks } from '../scheduler/sla-sweep.ts';
import { destinationsOf, loadScheduledTarget, syncConfig, ticketPolicyOf } from '../scheduler/sync-config.ts';
import { releaseClaimedOutbox } from '../store/outbox.ts';
import { startWorker, type Worker } from '../scheduler/worker.ts';
import { recentCrawlStats } from '../store/crawl-runs.ts';
import { listProcesses } from '../store/processes.ts';
import { drainHttpServer } from './http-drain.ts';
import type { Runtime } from './runtime.ts';

export interface Roles {
  api?: { host: string; port: number };
  scheduler?: boolean;
  /** Crawls at once in this process. */
  worker?: { concurrency: number };
}

export interface RunningRoles {
  /** The API's address, when it serves one. */
  address: string | null;
  /** What the scheduler found at start, for the start-up message. */
  scheduled: number;
  waiting: { id: string; reason: string }[];
  /** A warning when the schedule asks more than the workers can do; null when it fits. */
  load: string | null;
  /**
   * Stops the roles. At once, before it first waits: the API stops listening (a new connection is refused). Then,
   * all together: the API answers the requests in flight, each connection closing after its answer; the
   * scheduler stops firing; the worker takes no new jobs and lets its crawls finish (up to its grace period).
   * Then the job queue stops. Aborting `cutShort` ends what is still going: open connections are destroyed and
   * running crawls interrupted (queued again for the next start).
   */
  stop(cutShort?: AbortSignal): Promise<void>;
  /** What a stop is still waiting for, one phrase each ("2 requests in flight"); empty when nothing. */
  pending(): string[];
}

/** A part of the process that stops: `phase` 0 together first, then phase 1 (what phase 0 still used). */
interface Part {
  phase: 0 | 1;
  stop(cutShort: AbortSignal): Promise<void>;
  pending?(): string | null;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Lets the event loop take in connections and read requests. PGlite answers through promises alone, so a run of
 * statements never reaches the event loop's I/O phase: without these, /health waited for the whole start-up.
 * Two turns: one accepts a waiting connection, the next reads its request.
 */
async function letRequestsIn(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Starts the roles of a process on the runtime: `earshot run` starts all three; `earshot scheduler`,
 * `earshot worker` and `earshot api` one each, on PostgreSQL, in as many processes on as many hosts as needed.
 * The API listens first, as soon as the store is open: /health answers while the rest starts.
 */
export async function startRoles(runtime: Runtime, config: EarshotConfig, roles: Roles, log: Logger, role: string): Promise<RunningRoles> {
  // The API's modules load while the store opens.
  const apiModules = roles.api ? Promise.all([import('../api/app.ts'), import('../api/server.ts')]) : null;
  apiModules?.catch(() => undefined);
  const store = await runtime.store();
  const { db } = store;
  const now = runtime.now;
  const parts: Part[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = (cutShort: AbortSignal = new AbortController().signal): Promise<void> => {
    stopping ??= (async () => {
      const failures: unknown[] = [];
      for (const phase of [0, 1] as const) {
        // Started in the same turn: the API's listening socket is closed before anything waits.
        const results = await Promise.allSettled(parts.filter((p) => p.phase === phase).map((p) => p.stop(cutShort)));
        for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
      }
      if (failures.length > 0) throw failures[0];
    })();
    return stopping;
  };
  const pending = () => parts.flatMap((p) => p.pending?.() ?? []);
  try {
    let address: string | null = null;
    if (roles.api && apiModules) {
      const [{ buildApp }, { startServer }] = await apiModules;
      const app: FastifyInstance = await buildApp({
        db, storeKind: store.kind, ticketPolicy: ticketPolicyOf(config), destinationOf: destinationsOf(config), logger: { level: log.level, stream: process.stderr },
        publicUrl: config.publicUrl ?? null,
        uiDir: fileURLToPath(new URL('../ui/dist', import.meta.url)),
        checkAnswers: false,
      });
      const drain = drainHttpServer(app.server);
      let closingApp: Promise<void> | null = null;
      parts.push({
        phase: 0,
        async stop(cutShort) {
          drain.startClosing();
          const destroy = () => drain.destroyAll();
          cutShort.addEventListener('abort', destroy, { once: true });
          if (cutShort.aborted) destroy();
          try {
            // fastify answers 503 (Connection: close) to requests that arrive on open connections from now on,
            // and ends the inbox's event streams, which never end by themselves.
            closingApp ??= app.close();
            await closingApp;
            await drain.closed();
          } finally {
            cutShort.removeEventListener('abort', destroy);
          }
        },
        pending() {
          const { inFlight, connections } = drain.counts();
          if (connections === 0) return null;
          return inFlight > 0 ? `${plural(inFlight, 'request')} in flight` : `${plural(connections, 'open connection')}`;
        },
      });
      address = await startServer(app, roles.api);
      await letRequestsIn();
    }

    let queue: CrawlQueue | null = null;
    if (roles.scheduler || roles.worker) {
      queue = await startCrawlQueue(store, log);
      const started = queue;
      parts.push({ phase: 1, stop: () => started.stop() });
    }

    let worker: Worker | null = null;
    if (roles.worker && queue) {
      const self = describeThisProcess(role, roles.worker.concurrency);
      const heartbeat = await startHeartbeat(db, self, log);
      const recover = () => recoverDeadProcesses({ db, queue: queue!, log, now, self, onlyProcess: store.kind === 'pglite' });
      // What a crashed predecessor left is queued again before anything new.
      await letRequestsIn();
      await recover();
      await letRequestsIn();
      // Alone on the data directory: deliveries the predecessor had claimed go out now, as uncertain ones.
      if (store.kind === 'pglite') await releaseClaimedOutbox(db, now());
      const policy = ticketPolicyOf(config);
      const channelOf = destinationsOf(config);
      const hourCache = new Map();
      worker = startWorker({
        db,
        queue,
        log,
        processId: self.id,
        concurrency: roles.worker.concurrency,
        crawl: await runtime.crawlDeps(config, log, { processId: self.id }),
        delivery: await runtime.deliveryDeps(config, log),
        targetOf: (id) => loadScheduledTarget(db, config, id),
        // On PostgreSQL other processes come and go: look for dead ones now and then.
        ...(store.kind === 'postgres' ? { recover } : {}),
        sweepSla: () => sweepSlaClocks({ db, now, policy, log }),
        sweepAlerts: () => sweepAlerts({
          db, now, log, channels: policy.channels, hourCache,
          crisis: { enabled: config.crisis.enabled, escalateAfterSeconds: config.crisis.escalateAfter },
        }),
        alertsEveryMs: config.crisis.evaluateEverySeconds * 1000,
      });
      const polling = startActionPolling({
        channels: config.channels.map((c) => channelOf('channel', c.id)!),
        handler: { db, now, log, channels: policy.channels, policy },
        log,
      });
      parts.push({ phase: 0, stop: () => polling.stop() });
      const started = worker;
      parts.push({
        phase: 0,
        async stop(cutShort) {
          // Crawls still running after the grace period (or when cut short) are interrupted and queued again:
          // nothing stays held, so the process row goes and nobody has to wait for this process to be found dead.
          await started.stop({ cutShort });
          await heartbeat.stop();
        },
        pending: () => (started.running() > 0 ? `${plural(started.running(), 'crawl')} running` : null),
      });
    }

    let scheduled = 0;
    let waiting: RunningRoles['waiting'] = [];
    let load: string | null = null;
    if (roles.scheduler && queue) {
      await letRequestsIn();
      const synced = await syncConfig(db, config, runtime.crawlers, now());
      for (const target of synced.waiting) log.warn({ target: target.id }, `target disabled until configured: ${target.reason}`);
      const scheduler: Scheduler = await startScheduler({ db, queue, log, now, ...(worker ? { onQueued: worker.wake } : {}) }, synced.scheduled, { resumed: synced.resumed });
      parts.push({ phase: 0, stop: () => scheduler.stop() });
      scheduled = synced.scheduled.length;
      waiting = synced.waiting;
      await letRequestsIn();
      const slots = roles.worker
        ? roles.worker.concurrency
        : (await listProcesses(db, { staleAfterMs: STALE_AFTER_MS })).filter((p) => !p.stale).reduce((n, p) => n + p.concurrency, 0);
      const estimate = estimateScheduleLoad({
        targets: synced.scheduled,
        crawlers: runtime.crawlers,
        history: await recentCrawlStats(db, synced.scheduled.map((t) => t.id)),
        slots,
      });
      load = describeScheduleLoad(estimate);
      if (load) log.warn({ ...estimate, hosts: estimate.hosts.filter((h) => h.overloaded) }, load);
    }

    return { address, scheduled, waiting, load, stop: stopAll, pending };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
