import { parseArgs } from 'node:util';
import { serveCommands, type RunRequest } from '../command-channel.ts';
import { commandLogger, dataDirOf, loadCommandConfig, type CommandContext } from '../context.ts';
import { startRoles, type Roles } from '../roles.ts';
import { UsageError } from '../usage-error.ts';

const DEFAULT_CONCURRENCY = 8;

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
    const { file, config } = loadCommandConfig(ctx, values.config);
    const log = commandLogger(ctx, 'info');
    const roles: Roles = {
      ...(role === 'run' || role === 'api' ? { api: { host: ctx.env.HOST ?? '127.0.0.1', port: Number(ctx.env.PORT ?? 3000) } } : {}),
      ...(role === 'run' || role === 'scheduler' ? { scheduler: true } : {}),
      ...(role === 'run' || role === 'worker' ? { worker: { concurrency } } : {}),
    };
    const store = await ctx.runtime.store();
    // Beside the product on the embedded database, other earshot commands run in this process, on its store.
    if (store.lock) {
      const run: RunRequest = (request, io, signal) => runCommand(request.argv, { env: request.env, cwd: request.cwd, io, signal, now: ctx.now, runtime: ctx.runtime });
      serveCommands(store.lock, run, log);
    }
    const running = await startRoles(ctx.runtime, config, roles, log, role);
    const storage = store.kind === 'pglite' ? `PGlite in ${dataDirOf(ctx)}` : 'PostgreSQL';
    const parts = [
      running.address ? `earshot is listening on ${running.address} (the inbox at ${running.address}/, people from earshot user create; API docs at ${running.address}/docs)` : `earshot ${role} is running`,
      ...(roles.scheduler ? [`${running.scheduled} target(s) scheduled from ${file}`] : []),
      ...(running.waiting.length > 0 ? [`${running.waiting.length} waiting for credentials (${running.waiting.map((t) => t.id).join(', ')}; see earshot targets)`] : []),
      ...(roles.worker ? [`${roles.worker.concurrency} crawls at once`] : []),
      `storage: ${storage}`,
    ];
    ctx.io.out(`${parts.join('; ')}\n`);
    if (running.load) ctx.io.out(`warning: ${running.load}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      ctx.signal?.addEventListener('abort', stop, { once: true });
    });
    log.info('shutting down');
    await running.stop();
    return 0;
  };
}
