import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, configJsonSchema, loadConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { CrawlerError } from '../crawlers/errors.ts';
import { createHttpClient, type HttpClient, type HttpExchange } from '../crawlers/http.ts';
import { createRecorder, readRecordedPage } from '../crawlers/record.ts';
import { crawlers, findCrawler } from '../crawlers/registry.ts';
import type { Crawler } from '../crawlers/types.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { runCrawl, type CrawlSummary } from '../scheduler/run-crawl.ts';
import { destinationsOf, syncConfig, ticketPolicyOf } from '../scheduler/sync-config.ts';
import { createApiKey } from '../store/api-keys.ts';
import { listTargetHealth, type TargetHealth } from '../store/target-health.ts';
import { findBrand, upsertBrand } from '../store/brands.ts';
import { DataDirLockedError, migrateToLatest, openStore, type Store } from '../store/connect.ts';
import { upsertTarget } from '../store/targets.ts';
import { commandCluster } from './cluster.ts';
import { commandQuery } from './query.ts';
import { commandEvalSentiment, commandSentiment, commandTrain } from './sentiment.ts';
import { UsageError } from './usage-error.ts';

type Env = Readonly<Record<string, string | undefined>>;

const EXAMPLE_CONFIG = fileURLToPath(new URL('../config/earshot.example.yaml', import.meta.url));

const USAGE = `usage: earshot <command> [options]

  run [--config FILE]               API, scheduler and workers in one process (HOST, PORT; default 127.0.0.1:3000)
  migrate                           apply database migrations
  config check [FILE]               validate a config file (default: the example config)
  config schema                     print the config's JSON Schema (for editor completion)
  crawl <source> --target JSON --brand NAME [--keywords a,b] [--dry-run] [--record DIR] [--config FILE]
                                    crawl one target now; prints a JSON summary as the last line;
                                    --record saves every raw response (secrets trimmed) as a fixture
  parse <source> <file>             parse a recorded response; prints one JSON mention per line, no database
  targets [--json]                  crawl health of every target: state, last success, errors, next run
  apikey create --name NAME [--scopes read,write]
                                    create an API key (shown once)
  sentiment "text" [--lang xx] [--rating N]
                                    language, sentiment and whether it needs a reply, as JSON
  eval-sentiment FILE.jsonl [--lang xx]
                                    score the models on lines with text and label; prints one JSON line
  query test '<query>' FILE.jsonl   try a brand query on JSONL lines with text (optional id, title); prints
                                    each match with the matching words in [[ ]], then the counts
  cluster FILE.jsonl                group near-duplicates of lines with id and text; prints {"id","cluster"}
                                    per line, no database
  train --from-corrections [--brand NAME] [--dry-run]
                                    adapt each brand's sentiment model to people's corrections; prints the
                                    dev-split macro-F1 before and after and refuses a model that is worse
                                    (dev splits: EARSHOT_SENTIMENT_DATA, default ../shared/datasets/sentiment)

Storage: embedded PGlite in EARSHOT_DATA_DIR (default ./data), or PostgreSQL when DATABASE_URL is set.
Sources: ${Object.keys(crawlers).join(', ')}`;


/** Returns the process exit code: 0 ok, 1 the work failed, 2 bad input. */
export async function main(argv: string[], env: Env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await commandRun(rest, env);
      case 'migrate':
        return await commandMigrate(env);
      case 'config':
        return commandConfig(rest, env);
      case 'crawl':
        return await commandCrawl(rest, env);
      case 'parse':
        return await commandParse(rest);
      case 'targets':
        return await commandTargets(rest, env);
      case 'apikey':
        return await commandApiKey(rest, env);
      case 'sentiment':
        return commandSentiment(rest);
      case 'eval-sentiment':
        return commandEvalSentiment(rest);
      case 'query':
        return commandQuery(rest);
      case 'cluster':
        return commandCluster(rest);
      case 'train':
        return await commandTrain(rest, { openStore: () => openMigratedStore(env), now: () => new Date() });
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`earshot: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof CrawlerError) {
      process.stderr.write(`earshot: ${err.name}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`earshot: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function configPath(flag: string | undefined, env: Env): string {
  return flag ?? env.EARSHOT_CONFIG ?? EXAMPLE_CONFIG;
}

function dataDirOf(env: Env): string {
  return env.EARSHOT_DATA_DIR ?? './data';
}

async function openMigratedStore(env: Env, log?: Logger): Promise<Store> {
  const onConnectionLost = (err: Error) => log?.warn({ err: err.message }, 'database connection lost; reconnecting on next use');
  const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: dataDirOf(env), onConnectionLost });
  try {
    await migrateToLatest(store.db);
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * One polite client for the process: its per-host slots are shared, so two crawlers that reach the same host
 * queue behind each other; each crawler's requests are spaced at its own declared rate.
 */
function createHttpClients(opts: { onExchange?: (ex: HttpExchange) => void } = {}): (crawler: Crawler) => HttpClient {
  const shared = createHttpClient(opts.onExchange ? { onExchange: opts.onExchange } : {});
  return (crawler) => shared.withRate(crawler.rateLimit.perHostPerSecond);
}

async function commandRun(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  const file = configPath(values.config, env);
  const config = loadConfig(file, { env });
  const log = createLogger({ level: env.LOG_LEVEL ?? 'info' });
  const store = await openMigratedStore(env, log);
  const [{ buildApp }, { startServer }, { startScheduler }] = await Promise.all([
    import('../api/app.ts'),
    import('../api/server.ts'),
    import('../scheduler/scheduler.ts'),
  ]);
  const now = () => new Date();
  const { scheduled: targets, waiting } = await syncConfig(store.db, config, now());
  for (const target of waiting) log.warn({ target: target.id }, `target disabled until configured: ${target.reason}`);
  const httpFor = createHttpClients();
  const policy = ticketPolicyOf(config);
  const app = await buildApp({
    db: store.db, storeKind: store.kind, ticketPolicy: policy, logger: { level: env.LOG_LEVEL ?? 'info', stream: process.stderr },
  });
  const address = await startServer(app, { host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 3000) });
  const scheduler = await startScheduler(
    {
      store,
      log,
      crawl: { db: store.db, now, log, policy, httpFor, credentials: config.credentials },
      delivery: { db: store.db, now, log, policy: config.delivery, destinationOf: destinationsOf(config) },
    },
    targets,
  );
  process.stdout.write(
    `earshot is listening on ${address} (API docs at ${address}/docs); ` +
      `${targets.length} target(s) scheduled from ${file}` +
      (waiting.length > 0 ? `, ${waiting.length} waiting for credentials (${waiting.map((t) => t.id).join(', ')}; see earshot targets)` : '') +
      `; storage: ${store.kind === 'pglite' ? `PGlite in ${dataDirOf(env)}` : 'PostgreSQL'}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log.info('shutting down');
  await scheduler.stop();
  await app.close();
  await store.close();
  return 0;
}

async function commandMigrate(env: Env): Promise<number> {
  const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: dataDirOf(env) });
  try {
    const applied = await migrateToLatest(store.db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    return 0;
  } finally {
    await store.close();
  }
}

function commandConfig(args: string[], env: Env): number {
  const [sub, file] = args;
  if (sub === 'schema') {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (sub !== 'check') throw new UsageError('config needs "check [FILE]" or "schema"');
  const path = configPath(file, env);
  const config = loadConfig(path, { env });
  process.stdout.write(`${path}: ok (${describeConfig(config)})\n`);
  return 0;
}

function describeConfig(config: EarshotConfig): string {
  const enabled = config.targets.filter((t) => t.enabled).length;
  return [
    `${config.brands.length} brand(s)`,
    `${config.targets.length} target(s), ${enabled} enabled`,
    `${config.teams.length} team(s)`,
    `${config.channels.length} channel(s)`,
    `${config.helpdesks.length} helpdesk(s)`,
  ].join(', ');
}

function requireCrawler(source: string | undefined): Crawler {
  if (!source) throw new UsageError('name a source');
  const crawler = findCrawler(source);
  if (!crawler) throw new UsageError(`unknown source "${source}" (sources: ${Object.keys(crawlers).join(', ')})`);
  return crawler;
}

async function commandCrawl(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      brand: { type: 'string' },
      keywords: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      record: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const crawler = requireCrawler(positionals[0]);
  if (!values.target) throw new UsageError('--target is required, e.g. --target \'{"url":"https://example.com/feed.xml"}\'');
  if (!values.brand) throw new UsageError('--brand is required');
  let params: unknown;
  try {
    params = JSON.parse(values.target);
  } catch (err) {
    throw new UsageError(`--target is not valid JSON: ${(err as Error).message}`);
  }
  const checked = crawler.target.safeParse(params);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => `--target ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UsageError(issues.join('\n'));
  }
  const keywords = values.keywords?.split(',').map((k) => k.trim()).filter(Boolean);
  const config = loadConfig(configPath(values.config, env), { env });
  const log = createLogger({ level: env.LOG_LEVEL ?? 'warn' });
  const store = await openMigratedStore(env, log);
  const now = () => new Date();
  const brandName = values.brand;
  const targetId = `cli-${crawler.id}-${createHash('sha256').update(JSON.stringify(checked.data)).digest('hex').slice(0, 10)}`;
  const recorder = values.record ? createRecorder(values.record) : null;
  const http = createHttpClients(recorder ? { onExchange: recorder.onExchange } : {})(crawler);
  try {
    const crawl = async (db: Store['db']): Promise<CrawlSummary> => {
      const existing = await findBrand(db, brandName);
      const brand =
        existing && !keywords
          ? existing
          : await upsertBrand(db, { name: brandName, keywords: keywords ?? existing?.keywords ?? [brandName], ownAccounts: existing?.ownAccounts }, now());
      await upsertTarget(db, { id: targetId, source: crawler.id, brandId: brand.id, params: checked.data as Record<string, unknown>, schedule: crawler.defaultSchedule, enabled: true, expectedQuietDays: crawler.expectedQuietDays }, now());
      return runCrawl({ db, httpFor: () => http, now, log, policy: ticketPolicyOf(config), credentials: config.credentials }, { id: targetId, source: crawler.id, params: checked.data, brand });
    };
    const summary = values['dry-run'] ? await rollingBack(store, crawl) : await crawl(store.db);
    if (summary.status === 'failed') process.stderr.write(`earshot: crawl failed: ${summary.errorKind}: ${summary.error}\n`);
    if (recorder) process.stderr.write(`earshot: recorded ${recorder.files.length} response(s) in ${values.record}\n`);
    const { target, status, pages, fetched, new: added, updated, duplicates, unmatched, tickets } = summary;
    process.stdout.write(
      `${JSON.stringify({ fetched, new: added, updated, duplicates, tickets, unmatched, pages, status, target, dryRun: values['dry-run'] })}\n`,
    );
    return summary.status === 'ok' ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** A dry run is the real crawl inside one transaction that is rolled back: exact counts, nothing kept. */
async function rollingBack<T>(store: Store, fn: (db: Store['db']) => Promise<T>): Promise<T> {
  const rollback = new Error('dry run');
  let result: T | undefined;
  try {
    await store.db.transaction().execute(async (trx) => {
      result = await fn(trx);
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return result as T;
}

async function commandParse(args: string[]): Promise<number> {
  const [source, file] = args;
  const crawler = requireCrawler(source);
  if (!file) throw new UsageError('parse needs a file: earshot parse <source> <file>');
  const page = await crawler.parse(readRecordedPage(file), { fetchedAt: new Date() });
  for (const mention of page.mentions) process.stdout.write(`${JSON.stringify(mention)}\n`);
  return 0;
}

async function commandTargets(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const store = await openMigratedStore(env);
  try {
    const targets = await listTargetHealth(store.db, { now: new Date() });
    if (values.json) {
      for (const t of targets) process.stdout.write(`${JSON.stringify(t)}\n`);
    } else {
      process.stdout.write(formatTargetsTable(targets, new Date()));
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** A plain-text table for a terminal: one target a line, the last error cut to fit. */
export function formatTargetsTable(targets: readonly TargetHealth[], now: Date): string {
  if (targets.length === 0) return 'no targets yet: add some to the config and start earshot\n';
  const ago = (at: Date | null) => (at ? relativeTime(at, now) : '-');
  const header = ['TARGET', 'SOURCE', 'BRAND', 'STATE', 'LAST SUCCESS', 'ERRORS', 'NEXT RUN', '24H', 'LAST MENTION', 'LAST ERROR'];
  const rows = targets.map((t) => [
    t.id,
    t.source,
    t.brand,
    t.silent ? `${t.state}, silent` : t.state,
    ago(t.lastSuccessAt),
    String(t.consecutiveErrors),
    ago(t.nextRunAt),
    String(t.mentions24h),
    ago(t.lastMentionAt),
    t.lastError ? cut(t.lastError.replace(/\s+/g, ' '), 70) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function relativeTime(at: Date, now: Date): string {
  const s = Math.round((now.getTime() - at.getTime()) / 1000);
  const abs = Math.abs(s);
  const span = abs < 90 ? `${abs}s` : abs < 90 * 60 ? `${Math.round(abs / 60)}m` : abs < 36 * 3600 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return s >= 0 ? `${span} ago` : `in ${span}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function commandApiKey(args: string[], env: Env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError('apikey needs "create --name NAME [--scopes read,write]"');
  const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, scopes: { type: 'string', default: 'read' } } });
  if (!values.name) throw new UsageError('--name is required');
  const scopes = values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => s !== 'read' && s !== 'write');
  if (unknown.length > 0 || scopes.length === 0) throw new UsageError(`--scopes: use read, write or read,write (got "${values.scopes}")`);
  const store = await openMigratedStore(env);
  try {
    const key = await createApiKey(store.db, { name: values.name, scopes: scopes as ('read' | 'write')[] });
    process.stdout.write(`${key.key}\n`);
    process.stderr.write(`API key "${key.name}" (${key.scopes.join(',')}) created; it is shown only this once.\n`);
    return 0;
  } finally {
    await store.close();
  }
}
