import { ConfigError } from '../config/load.ts';
import { CrawlerError } from '../crawlers/errors.ts';
import { crawlers } from '../crawlers/registry.ts';
import { DataDirLockedError } from '../store/connect.ts';
import { envOf, runInDataDirOwner } from './command-channel.ts';
import { commandApiKey } from './commands/apikey.ts';
import { commandCluster } from './commands/cluster.ts';
import { commandConfig } from './commands/config.ts';
import { commandCrisis } from './commands/crisis.ts';
import { commandCrawl, commandParse } from './commands/crawl.ts';
import { commandMigrate } from './commands/migrate.ts';
import { commandQuery } from './commands/query.ts';
import { roleCommand } from './commands/run.ts';
import { commandEvalSentiment, commandSentiment, commandTrain } from './commands/sentiment.ts';
import { commandRouting } from './commands/routing.ts';
import { commandTargets } from './commands/targets.ts';
import { commandTickets } from './commands/tickets.ts';
import { commandUser } from './commands/user.ts';
import { commandLogger, dataDirOf, stdio, type CommandContext, type CommandIo, type Env } from './context.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { describeOperatorFault } from './operator-faults.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `usage: earshot <command> [options]

  run [--config FILE] [--concurrency N]
                                    API, scheduler and worker in one process (HOST, PORT; default 127.0.0.1:3000)
  scheduler [--config FILE]         on PostgreSQL: fire each target's cron schedule (any number may run)
  worker [--config FILE] [--concurrency N]
                                    on PostgreSQL: crawl and deliver; run as many as needed, on any hosts
  api [--config FILE]               on PostgreSQL: the API alone (HOST, PORT)
  migrate                           apply database migrations
  config check [FILE]               validate a config file (default: the example config)
  config schema                     print the config's JSON Schema (for editor completion)
  crawl <source> --target JSON --brand NAME [--keywords a,b] [--dry-run] [--record DIR] [--config FILE]
                                    crawl one target now; prints a JSON summary as the last line;
                                    --record saves every raw response (secrets trimmed) as a fixture
  parse <source> <file>             parse a recorded response; prints one JSON mention per line, no database
  targets [--json]                  crawl health of every target: state, last success, errors, next run
  tickets [--status S] [--limit N] [--json]
                                    the latest changed tickets: status, SLA, helpdesk ids; --json prints the
                                    ticket documents the API and helpdesk payloads carry
  routing test [--since 7d] [--limit N] [--json] [--config FILE]
                                    try the routing rules on mentions stored lately (default 7d, 200): team,
                                    priority, helpdesks, channels and the rules that decided, per mention
  apikey create --name NAME [--scopes read,write]
                                    create an API key (shown once)
  apikey list [--json] | apikey revoke ID|NAME
                                    the keys with their scopes, last use and state; a revoked key is refused
                                    from its next request, also by a running earshot
  user create --email E --role admin|agent|viewer [--password P]
                                    create a person who signs in to the inbox; without --password a
                                    generated one is printed, once
  user list [--json] | user disable EMAIL | user enable EMAIL
                                    the people, their roles and last sign-in; disable keeps them out
  sentiment "text" [--lang xx] [--rating N]
                                    language, sentiment and whether it needs a reply, as JSON
  eval-sentiment FILE.jsonl [--lang xx]
                                    score the models on lines with text and label; prints one JSON line
  query test '<query>' FILE.jsonl   try a brand query on JSONL lines with text (optional id, title); prints
                                    each match with the matching words in [[ ]], then the counts
  cluster FILE.jsonl                group near-duplicates of lines with id and text; prints {"id","cluster"}
                                    per line, no database
  crisis replay FILE.jsonl [--step MINUTES]
                                    run the crisis detector over lines with brand, published_at, sentiment,
                                    author, reach (and story) as if live, a tick every MINUTES (default 1);
                                    prints each incident it would have opened, then the warnings per
                                    brand-week; no database
  train --from-corrections [--brand NAME] [--dev FILE.jsonl] [--force] [--dry-run]
                                    adapt each brand's sentiment model to people's corrections; judges it
                                    against the live model on the brand's held-out corrections (and on --dev
                                    FILE when given) and refuses a worse one; --force saves one too little
                                    evidence can judge

Storage: embedded PGlite in EARSHOT_DATA_DIR (default ./data), or PostgreSQL when DATABASE_URL is set.
While earshot run holds the embedded data directory, the other commands run inside it.
Sources: ${Object.keys(crawlers).join(', ')}`;

interface Command {
  run(args: string[], ctx: CommandContext): number | Promise<number>;
  /**
   * Opens the store. On the embedded database, when `earshot run` holds the data directory, the command is
   * sent to it and runs there, with the same output.
   */
  store?: boolean;
}

const commands: Record<string, Command> = {
  run: { run: roleCommand('run', runInProduct) },
  scheduler: { run: roleCommand('scheduler', runInProduct) },
  worker: { run: roleCommand('worker', runInProduct) },
  api: { run: roleCommand('api', runInProduct) },
  migrate: { run: commandMigrate, store: true },
  config: { run: commandConfig },
  crawl: { run: commandCrawl, store: true },
  parse: { run: commandParse },
  targets: { run: commandTargets, store: true },
  tickets: { run: commandTickets, store: true },
  routing: { run: commandRouting, store: true },
  apikey: { run: commandApiKey, store: true },
  user: { run: commandUser, store: true },
  sentiment: { run: commandSentiment },
  'eval-sentiment': { run: commandEvalSentiment },
  query: { run: commandQuery },
  cluster: { run: commandCluster },
  crisis: { run: commandCrisis },
  train: { run: commandTrain, store: true },
};

export interface MainOptions {
  cwd?: string;
  io?: CommandIo;
  signal?: AbortSignal;
  /** The running product's runtime, when it runs the command for a CLI beside it. */
  runtime?: Runtime;
}

/** Returns the process exit code: 0 ok, 1 the work failed, 2 bad input. */
export async function main(argv: string[], env: Env, opts: MainOptions = {}): Promise<number> {
  const [name, ...rest] = argv;
  const io = opts.io ?? stdio;
  const cwd = opts.cwd ?? process.cwd();
  try {
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      io.out(`${USAGE}\n`);
      return name === undefined ? 2 : 0;
    }
    const command = Object.hasOwn(commands, name) ? commands[name]! : undefined;
    if (!command) throw new UsageError(`unknown command "${name}"`);
    const dataDir = dataDirOf({ env, cwd });
    if (command.store && !opts.runtime && env.DATABASE_URL === undefined) {
      const code = await runInDataDirOwner(dataDir, { argv, env: envOf(env), cwd }, io);
      if (code !== null) return code;
    }
    const runtime =
      opts.runtime ??
      createRuntime({
        env, dataDir, role: name, migrateOnOpen: name !== 'migrate', servesCommands: name === 'run',
        log: commandLogger({ env, io }, 'warn'),
      });
    try {
      return await command.run(rest, { env, cwd, io, now: runtime.now, runtime, ...(opts.signal ? { signal: opts.signal } : {}) });
    } finally {
      if (!opts.runtime) await runtime.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      io.err(`earshot: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof CrawlerError || err instanceof DataDirLockedError) {
      io.err(`earshot: ${err instanceof CrawlerError ? `${err.name}: ` : ''}${err.message}\n`);
      return 1;
    }
    const fault = describeOperatorFault(err, { databaseUrl: env.DATABASE_URL, dataDir: dataDirOf({ env, cwd }) });
    if (fault !== null) {
      io.err(`earshot: ${fault}\n`);
      return 1;
    }
    throw err;
  }
}

/** A command sent by a CLI beside the product: runs here, on the product's runtime. */
async function runInProduct(argv: string[], ctx: CommandContext): Promise<number> {
  const name = argv[0] ?? '';
  if (!(Object.hasOwn(commands, name) && commands[name]!.store)) {
    ctx.io.err(`earshot: "${name}" is not run inside the product; run it on its own\n`);
    return 2;
  }
  return main(argv, ctx.env, { cwd: ctx.cwd, io: ctx.io, runtime: ctx.runtime, ...(ctx.signal ? { signal: ctx.signal } : {}) });
}
