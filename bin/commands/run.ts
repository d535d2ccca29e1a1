import { parseArgs } from 'node:util';
import { serveCommands, type RunRequest } from '../command-channel.ts';
import { commandLogger, dataDirOf, loadCommandConfig, type CommandContext } from '../context.ts';
import type { Logger } from '../../log/logger.ts';
import type { Store } from '../../store/connect.ts';
import { startRoles, type Roles, type RunningRoles } from '../roles.ts';
import { UsageError } from '../usage-error.ts';

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_SHUTDOWN_SECONDS = 10;

type Role = 'run' | 'scheduler' | 'worker' | 'api';

/**
 * `earshot run` (API, scheduler and worker in one process, the embedded default) and the roles that scale out
 * on PostgreSQL: `earshot scheduler`, `earshot worker [--concurrency N]`, `earshot api`.
 */
export function roleCommand(role: Role, runCommand: (argv: string[], ctx: CommandContext) => Promise<number>) {
  return async (args: string[], ctx: CommandContext): Promise<number> => {
    const { values } = parseArgs({ args, options: { config: { type: 'string' }, concurrency: { type: 'string' } } });
    const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw new UsageError(`--concurrency: a whole number of crawls at once, 1..256 (got "${values.concurrency}")`);
    }
    if (values.concurrency !== undefined && role !== 'run' && role !== 'worker') throw new UsageError(`--concurrency is for earshot run and earshot worker`);
    if (role !== 'run' && ctx.env.DATABASE_URL === undefined) {
      throw new UsageError(`earshot ${role} shares the work with other processes through PostgreSQL: set DATABASE_URL (on the embedded database, earshot run is the one process)`);
    }
    const shutdownMs = shutdownSecondsOf(ctx.env) * 1000;
    const { file, config } = loadCommandConfig(ctx, values.config);
    const log = commandLogger(ctx, 'info');
    const roles: Roles = {
      ...(role === 'run' || role === 'api' ? { api: { host: ctx.env.HOST ?? '127.0.0.1', port: Number(ctx.env.PORT ?? 3000) } } : {}),
      ...(role === 'run' || role === 'scheduler' ? { scheduler: true } : {}),
      ...(role === 'run' || role === 'worker' ? { worker: { concurrency } } : {}),
    };
    // Started before the store is open, so the API's modules load while it opens.
    const starting = startRoles(ctx.runtime, config, roles, log, role);
    starting.catch(() => undefined);
    const store = await ctx.runtime.store();
    // Beside the product on the embedded database, other earshot commands run in this process, on its store.
    if (store.lock) {
      const run: RunRequest = (request, io, signal) => runCommand(request.argv, { env: request.env, cwd: request.cwd, io, signal, now: ctx.now, runtime: ctx.runtime });
      serveCommands(store.lock, run, log);
    }
    const running = await starting;
    const storage = store.kind === 'pglite' ? `PGlite in ${dataDirOf(ctx)}` : 'PostgreSQL';
    const parts = [
      running.address ? `earshot is listening on ${running.address} (the inbox at ${running.address}/, people from earshot user create; API docs at ${running.address}/docs)` : `earshot ${role} is running`,
      ...(roles.scheduler ? [`${running.scheduled} target(s) scheduled from ${file}`] : []),
      ...(running.waiting.length > 0 ? [`${running.waiting.length} waiting for credentials (${running.waiting.map((t) => t.id).join(', ')}; see earshot targets)`] : []),
      ...(roles.worker ? [`${roles.worker.concurrency} crawls at once`] : []),
      `storage: ${storage}`,
    ];
    const ready = `${parts.join('; ')}\n${running.load ? `warning: ${running.load}\n` : ''}`;
    return runUntilStopped(ctx, running, store, shutdownMs, log, ready);
  };
}

/** EARSHOT_SHUTDOWN_SECONDS: how long a stop may take before the process exits anyway; default 10. */
function shutdownSecondsOf(env: CommandContext['env']): number {
  const raw = env.EARSHOT_SHUTDOWN_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_SHUTDOWN_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(`EARSHOT_SHUTDOWN_SECONDS: the seconds a stop may take, more than 0 and at most 3600 (got "${raw}")`);
  }
  return seconds;
}

const EXIT_CODE_OF: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs until SIGINT or SIGTERM (or the caller's abort), then stops in order: the API stops listening at once and
 * answers the requests in flight, the workers let their crawls finish, then the queue and the store close. A stop
 * is bounded. 2 s before `shutdownMs` (a fifth of it, when shorter), what is still going is cut short and said on
 * stderr: open connections are destroyed, crawls interrupted (queued again for the next start), and the store
 * closes without the statements still queued for it (the one running finishes). At `shutdownMs` the process exits
 * whatever still waits. The second signal exits at once. Returns 0 for a clean stop, 1 for one cut short.
 */
async function runUntilStopped(ctx: CommandContext, running: RunningRoles, store: Store, shutdownMs: number, log: Logger, ready: string): Promise<number> {
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const listener = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  // Said once the signals are ours, so that whoever reads "listening" and stops it at once gets a graceful stop.
  // Said before, a loaded machine could run the reader's kill between the write and the listeners: a hard stop.
  ctx.io.out(ready);
  try {
    const cause = await new Promise<string>((resolve) => {
      onSignal = resolve;
      ctx.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    log.info({ cause }, 'shutting down');
    let storeClosing = false;
    const waitingFor = () => {
      // Statements waiting for the database: on PGlite, the requests a load left behind wait here, one at a time.
      const queued = store.pool.waitingCount;
      return [
        ...running.pending(),
        ...(queued > 0 ? [`${queued} database ${queued === 1 ? 'statement' : 'statements'} queued`] : []),
        ...(storeClosing ? ['closing the database'] : []),
      ].join(', ');
    };
    const cut = new AbortController();
    // Before it first waits, stop() has closed the listening socket: from the line below on, connecting fails.
    const stopped = running.stop(cut.signal);
    stopped.catch(() => undefined);
    onSignal = (signal) => {
      const left = waitingFor();
      ctx.io.err(`earshot: ${signal} again: exiting now${left ? `, without waiting for ${left}` : ''}\n`);
      process.exit(EXIT_CODE_OF[signal] ?? 1);
    };
    const seconds = (ms: number) => Math.round(ms / 100) / 10;
    const now = waitingFor();
    const refusing = running.address ? 'no new connections' : 'no new work';
    ctx.io.out(`earshot is stopping (${cause}): ${refusing}${now ? `; waiting for ${now}` : ''} (at most ${seconds(shutdownMs)} s; a second SIGINT or SIGTERM exits at once)\n`);

    // Neither timer keeps the process alive by itself: a clean stop exits as soon as everything is closed.
    const cutAfterMs = shutdownMs - Math.min(2000, shutdownMs / 5);
    let cutTimer: NodeJS.Timeout | undefined;
    const cutReached = new Promise<'cut'>((resolve) => {
      cutTimer = setTimeout(() => {
        const left = waitingFor();
        ctx.io.err(`earshot: still stopping after ${seconds(cutAfterMs)} s: cut short ${left || 'what was left'}\n`);
        cut.abort();
        resolve('cut');
      }, cutAfterMs);
      cutTimer.unref();
    });
    const exitTimer = setTimeout(() => {
      const left = waitingFor();
      ctx.io.err(`earshot: not stopped within ${seconds(shutdownMs)} s${left ? ` (still waiting for ${left})` : ' (something still held the process)'}; exiting\n`);
      process.exit(1);
    }, shutdownMs);
    exitTimer.unref();

    let outcome: 'stopped' | 'cut';
    try {
      outcome = await Promise.race([stopped.then(() => 'stopped' as const), cutReached]);
    } finally {
      clearTimeout(cutTimer);
      storeClosing = true;
      // Cut short, the store closes under what still waits: their statements fail or never run, and the next
      // start recovers what they left (a crawl run, a process row), as after a crash.
      await ctx.runtime.close();
      storeClosing = false;
    }
    if (outcome === 'cut') return 1;
    log.info('stopped');
    return 0;
  } finally {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  }
}
