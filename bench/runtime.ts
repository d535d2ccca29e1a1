import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../store/connect.ts';
import { startEarshot, type EarshotProcess } from '../tests/helpers/earshot-process.ts';
import { startFixtureServer, type FixtureServer } from '../tests/helpers/fixture-server.ts';

const rss = readFileSync(new URL('../crawlers/rss/fixtures/guardian-trimmed.rss', import.meta.url));

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

let databases = 0;

/** Where a bench keeps its data: a PGlite directory, or a new PostgreSQL database dropped afterwards. */
export async function benchDatabase(kind: 'pglite' | 'postgres', databaseUrl: string | undefined): Promise<{ env: Record<string, string>; open: () => Promise<Store>; drop: () => Promise<void> }> {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-'));
    return { env: { EARSHOT_DATA_DIR: dir }, open: () => openStore({ dataDir: dir }), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `earshot_bench_${process.pid}_${Date.now()}_${databases++}`;
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl!);
  url.pathname = `/${name}`;
  return { env: { DATABASE_URL: url.toString() }, open: () => openStore({ databaseUrl: url.toString() }), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The feeds, one local server each (its own host, with its own polite rate), and a config naming them. */
async function feeds(n: number, schedule: string, onRequest?: (feed: number, res: ServerResponse) => boolean) {
  const servers: FixtureServer[] = [];
  for (let i = 0; i < n; i++) {
    servers.push(await startFixtureServer({
      '/feed.xml': (_req, res) => {
        if (onRequest?.(i, res)) return;
        res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss);
      },
    }));
  }
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-config-'));
  const config = join(dir, 'earshot.yaml');
  writeFileSync(
    config,
    `brands: [{ name: Acme, keywords: [Trump, FBI] }]
teams: [{ id: support, name: Support }]
routing: { defaultTeam: support }
targets:
${servers.map((s, i) => `  - { id: feed-${String(i).padStart(2, '0')}, source: rss, brand: Acme, schedule: "${schedule}", params: { url: "${s.url}/feed.xml" } }`).join('\n')}
`,
  );
  return {
    config,
    requests: () => servers.reduce((n, s) => n + s.requests.length, 0),
    close: async () => {
      for (const s of servers) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopAll(processes: EarshotProcess[]): Promise<void> {
  for (const p of processes) p.child.kill('SIGTERM');
  for (const p of processes) await p.exited;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** PGlite, and PostgreSQL when DATABASE_URL is set; BENCH_DB=pglite or postgres picks one. */
function kindsOf(opts: { databaseUrl: string | undefined; only?: string | undefined }): ('pglite' | 'postgres')[] {
  const kinds: ('pglite' | 'postgres')[] = opts.databaseUrl ? ['pglite', 'postgres'] : ['pglite'];
  return opts.only ? kinds.filter((k) => k === opts.only) : kinds;
}

/**
 * 40 feeds on a `*\/20 * * * * *` schedule for BENCH_MINUTES (default 5): `earshot run` on PGlite, and one
 * scheduler with two workers on PostgreSQL when DATABASE_URL is set. Reports the gaps between a target's
 * crawls (the first, at start, left out) and the fires skipped.
 */
export async function benchSchedule(opts: { targets: number; minutes: number; databaseUrl: string | undefined; only?: string | undefined }): Promise<void> {
  for (const kind of kindsOf(opts)) {
    const db = await benchDatabase(kind, opts.databaseUrl);
    const upstream = await feeds(opts.targets, '*/20 * * * * *');
    const env = { ...db.env, EARSHOT_CONFIG: upstream.config, PORT: '0', LOG_LEVEL: 'warn' };
    const processes = kind === 'pglite'
      ? [startEarshot(['run'], env)]
      : [startEarshot(['scheduler'], env), startEarshot(['worker'], env), startEarshot(['worker'], env)];
    await Promise.all(processes.map((p) => p.waitForLine(/^earshot /)));
    const started = Date.now();
    await new Promise((r) => setTimeout(r, opts.minutes * 60_000));
    await stopAll(processes);
    const store = await db.open();
    try {
      const runs = await store.db.selectFrom('crawl_runs').select(['target_id', 'status', 'started_at']).orderBy('id').execute();
      const byTarget = new Map<string, number[]>();
      for (const r of runs) byTarget.set(r.target_id, [...(byTarget.get(r.target_id) ?? []), r.started_at.getTime()]);
      const gaps = [...byTarget.values()].flatMap((starts) => starts.slice(1).map((t, i) => (t - starts[i]!) / 1000)).slice();
      // The first crawl of each target runs at start, off the cron grid: its gap to the first fire is not one.
      const onGrid = [...byTarget.values()].flatMap((starts) => starts.slice(2).map((t, i) => (t - starts[i + 1]!) / 1000)).sort((a, b) => a - b);
      const skipped = await store.db.selectFrom('targets').select((eb) => eb.fn.sum<string>('skipped_runs').as('n')).executeTakeFirstOrThrow();
      // Skips while the workers were still starting (the scheduler queues new targets at once) are not a lag.
      const lastSkip = await store.db.selectFrom('targets').select((eb) => eb.fn.max('last_skipped_at').as('at')).executeTakeFirstOrThrow();
      print({
        bench: 'schedule', db: kind, processes: kind === 'pglite' ? 'earshot run' : 'scheduler + 2 workers', targets: opts.targets,
        schedule: '*/20 * * * * *', minutes: round((Date.now() - started) / 60_000), crawls: runs.length, requests: upstream.requests(),
        failed: runs.filter((r) => r.status !== 'ok').length, gaps: gaps.length,
        gap_s: { min: round(onGrid[0] ?? NaN), p50: round(quantile(onGrid, 0.5)), p95: round(quantile(onGrid, 0.95)), max: round(onGrid.at(-1) ?? NaN) },
        within_5s_of_20s: round(onGrid.filter((g) => Math.abs(g - 20) <= 5).length / Math.max(1, onGrid.length)),
        skipped_runs: Number(skipped.n ?? 0),
        last_skip_s_after_start: lastSkip.at ? round((new Date(lastSkip.at).getTime() - started) / 1000) : null,
      });
    } finally {
      await store.close();
      await upstream.close();
      await db.drop();
    }
  }
}

/**
 * A kill -9 in the middle of a crawl. PGlite: `earshot run` killed and started again; the time from the new
 * start to the interrupted target's next crawl, and to any crawl. PostgreSQL: one of two workers killed; the
 * time until the other crawls the interrupted target again.
 */
export async function benchRecovery(opts: { databaseUrl: string | undefined; only?: string | undefined }): Promise<void> {
  for (const kind of kindsOf(opts)) {
    const db = await benchDatabase(kind, opts.databaseUrl);
    let hung: ServerResponse | null = null;
    let hungSeen: () => void = () => {};
    const seen = new Promise<void>((resolve) => (hungSeen = resolve));
    // Feed 0's first request never gets an answer: a crawl is surely running when the process is killed.
    const upstream = await feeds(10, '*/10 * * * * *', (feed, res) => {
      if (feed !== 0 || hung !== null) return false;
      hung = res;
      hungSeen();
      return true;
    });
    const env = { ...db.env, EARSHOT_CONFIG: upstream.config, PORT: '0', LOG_LEVEL: 'warn' };
    const processes = kind === 'pglite' ? [startEarshot(['run'], env)] : [startEarshot(['scheduler'], env), startEarshot(['worker'], env), startEarshot(['worker'], env)];
    let store: Store | null = null;
    try {
      await Promise.all(processes.map((p) => p.waitForLine(/^earshot /)));
      await seen;
      store = kind === 'postgres' ? await db.open() : null;
      const holder = store
        ? await store.db.selectFrom('job_leases as l').innerJoin('processes as p', 'p.id', 'l.process_id').select('p.pid').where('l.target_id', '=', 'feed-00').executeTakeFirstOrThrow()
        : { pid: processes[0]!.child.pid };
      const victim = processes.find((p) => p.child.pid === holder.pid)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      const survivors = processes.filter((p) => p !== victim);
      if (kind === 'pglite') {
        survivors.push(startEarshot(['run'], env));
        await survivors[0]!.waitForLine(/^earshot /);
      }
      const restartedAt = Date.now();
      if (store) {
        const until = Date.now() + 120_000;
        while (Date.now() < until && !(await crawledAgain(store))) await new Promise((r) => setTimeout(r, 200));
      } else {
        // The product holds the data directory: read its runs once it has had time, and has stopped.
        await new Promise((r) => setTimeout(r, 30_000));
      }
      await stopAll(survivors);
      store ??= await db.open();
      const runs = await store.db.selectFrom('crawl_runs').select(['target_id', 'status', 'started_at']).orderBy('id').execute();
      const resumed = runs.find((r) => r.target_id === 'feed-00' && r.status === 'ok');
      const anyAfter = runs.find((r) => r.started_at.getTime() >= killedAt && r.target_id !== 'feed-00');
      print({
        bench: 'recovery', db: kind, killed: kind === 'pglite' ? 'earshot run' : 'one of two workers',
        restart_to_listening_s: kind === 'pglite' ? round((restartedAt - killedAt) / 1000) : null,
        kill_to_interrupted_target_crawled_s: resumed ? round((resumed.started_at.getTime() - killedAt) / 1000) : null,
        kill_to_next_crawl_s: anyAfter ? round((anyAfter.started_at.getTime() - killedAt) / 1000) : null,
        interrupted_runs: runs.filter((r) => r.status === 'interrupted').length,
        running_left: runs.filter((r) => r.status === 'running').length,
      });
    } finally {
      (hung as ServerResponse | null)?.destroy();
      for (const p of processes) p.child.kill('SIGKILL');
      await store?.close();
      await upstream.close();
      await db.drop();
    }
  }
}

async function crawledAgain(store: Store): Promise<boolean> {
  const ok = await store.db.selectFrom('crawl_runs').select('id').where('target_id', '=', 'feed-00').where('status', '=', 'ok').executeTakeFirst();
  return ok !== undefined;
}
