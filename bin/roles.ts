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
  stop(): Promise<void>;
}

/**
 * Starts the roles of a process on the runtime: `earshot run` starts all three; `earshot scheduler`,
 * `earshot worker` and `earshot api` one each, on PostgreSQL, in as many processes on as many hosts as needed.
 */
export async function startRoles(runtime: Runtime, config: EarshotConfig, roles: Roles, log: Logger, role: string): Promise<RunningRoles> {
  const store = await runtime.store();
  const { db } = store;
  const now = runtime.now;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    let queue: CrawlQueue | null = null;
    if (roles.scheduler || roles.worker) {
      queue = await startCrawlQueue(store, log);
      const started = queue;
      stops.push(() => started.stop());
    }

    let worker: Worker | null = null;
    if (roles.worker && queue) {
      const self = describeThisProcess(role, roles.worker.concurrency);
      const heartbeat = await startHeartbeat(db, self, log);
      const recover = () => recoverDeadProcesses({ db, queue: queue!, log, now, self, onlyProcess: store.kind === 'pglite' });
      // What a crashed predecessor left is queued again before anything new.
      await recover();
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
      stops.push(() => polling.stop());
      const started = worker;
      stops.push(async () => {
        // Crawls still running after the grace period are interrupted and queued again: nothing stays held,
        // so the process row goes and nobody has to wait for this process to be found dead.
        await started.stop();
        await heartbeat.stop();
      });
    }

    let scheduled = 0;
    let waiting: RunningRoles['waiting'] = [];
    let load: string | null = null;
    if (roles.scheduler && queue) {
      const synced = await syncConfig(db, config, runtime.crawlers, now());
      for (const target of synced.waiting) log.warn({ target: target.id }, `target disabled until configured: ${target.reason}`);
      const scheduler: Scheduler = await startScheduler({ db, queue, log, now, ...(worker ? { onQueued: worker.wake } : {}) }, synced.scheduled, { resumed: synced.resumed });
      stops.push(() => scheduler.stop());
      scheduled = synced.scheduled.length;
      waiting = synced.waiting;
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

    let address: string | null = null;
    if (roles.api) {
      const [{ buildApp }, { startServer }] = await Promise.all([import('../api/app.ts'), import('../api/server.ts')]);
      const app: FastifyInstance = await buildApp({
        db, storeKind: store.kind, ticketPolicy: ticketPolicyOf(config), destinationOf: destinationsOf(config), logger: { level: log.level, stream: process.stderr },
        publicUrl: config.publicUrl ?? null,
        uiDir: fileURLToPath(new URL('../ui/dist', import.meta.url)),
      });
      stops.push(() => app.close());
      address = await startServer(app, roles.api);
    }
    return { address, scheduled, waiting, load, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
