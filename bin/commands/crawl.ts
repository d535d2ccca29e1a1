import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createHttpClient } from '../../crawlers/http.ts';
import { createRecorder, readRecordedPage } from '../../crawlers/record.ts';
import { findCrawler } from '../../crawlers/registry.ts';
import type { Crawler } from '../../crawlers/types.ts';
import { describeThisProcess, startHeartbeat } from '../../scheduler/processes.ts';
import { runCrawl, type CrawlSummary } from '../../scheduler/run-crawl.ts';
import { findBrand, upsertBrand } from '../../store/brands.ts';
import type { Db, Store } from '../../store/connect.ts';
import { upsertTarget } from '../../store/targets.ts';
import { callerPath, commandLogger, loadCommandConfig, type CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

function requireCrawler(ctx: CommandContext, source: string | undefined): Crawler {
  if (!source) throw new UsageError('name a source');
  const crawler = findCrawler(ctx.runtime.crawlers, source);
  if (!crawler) throw new UsageError(`unknown source "${source}" (sources: ${Object.keys(ctx.runtime.crawlers).join(', ')})`);
  return crawler;
}

/** `earshot crawl <source> --target JSON --brand NAME ...`: one crawl now, a JSON summary as the last line. */
export async function commandCrawl(args: string[], ctx: CommandContext): Promise<number> {
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
  const crawler = requireCrawler(ctx, positionals[0]);
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
  const { config } = loadCommandConfig(ctx, values.config);
  const log = commandLogger(ctx, 'warn');
  const store = await ctx.runtime.store();
  const now = ctx.now;
  const brandName = values.brand;
  const targetId = `cli-${crawler.id}-${createHash('sha256').update(JSON.stringify(checked.data)).digest('hex').slice(0, 10)}`;
  const recordDir = values.record === undefined ? null : callerPath(ctx, values.record);
  const recorder = recordDir ? createRecorder(recordDir) : null;
  const recording = recorder ? createHttpClient({ onExchange: recorder.onExchange }) : null;
  // A registered process: should this one die mid-crawl, its run is closed as interrupted.
  const self = describeThisProcess('crawl', 0);
  const heartbeat = await startHeartbeat(store.db, self, log);
  try {
    const crawl = async (db: Db): Promise<CrawlSummary> => {
      const existing = await findBrand(db, brandName);
      const brand =
        existing && !keywords
          ? existing
          : await upsertBrand(db, { name: brandName, keywords: keywords ?? existing?.keywords ?? [brandName], ownAccounts: existing?.ownAccounts }, now());
      await upsertTarget(db, { id: targetId, source: crawler.id, brandIds: [brand.id], params: checked.data as Record<string, unknown>, schedule: crawler.defaultSchedule, enabled: true, expectedQuietDays: crawler.expectedQuietDays }, now());
      const deps = await ctx.runtime.crawlDeps(config, log, {
        db,
        processId: self.id,
        ...(recording ? { httpFor: (c: Crawler) => recording.withRate(c.rateLimit.perHostPerSecond) } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      return runCrawl(deps, { id: targetId, source: crawler.id, params: checked.data, brands: [brand] });
    };
    const summary = values['dry-run'] ? await rollingBack(store, crawl) : await crawl(store.db);
    if (summary.status !== 'ok') ctx.io.err(`earshot: crawl ${summary.status}: ${summary.errorKind}: ${summary.error}\n`);
    if (recorder) ctx.io.err(`earshot: recorded ${recorder.files.length} response(s) in ${values.record}\n`);
    const { target, status, pages, fetched, new: added, updated, duplicates, unmatched, tickets } = summary;
    ctx.io.out(`${JSON.stringify({ fetched, new: added, updated, duplicates, tickets, unmatched, pages, status, target, dryRun: values['dry-run'] })}\n`);
    return summary.status === 'ok' ? 0 : 1;
  } finally {
    await heartbeat.stop();
    await recording?.close();
  }
}

/** A dry run is the real crawl inside one transaction that is rolled back: exact counts, nothing kept. */
async function rollingBack<T>(store: Store, fn: (db: Db) => Promise<T>): Promise<T> {
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

/** `earshot parse <source> <file>`: a saved response, one JSON mention per line, no database. */
export async function commandParse(args: string[], ctx: CommandContext): Promise<number> {
  const [source, file] = args;
  const crawler = requireCrawler(ctx, source);
  if (!file) throw new UsageError('parse needs a file: earshot parse <source> <file>');
  const page = await crawler.parse(readRecordedPage(callerPath(ctx, file)), { fetchedAt: ctx.now() });
  for (const mention of page.mentions) ctx.io.out(`${JSON.stringify(mention)}\n`);
  return 0;
}
