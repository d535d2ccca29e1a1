import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/connect.ts';
import { startEarshot, runEarshot, type EarshotProcess } from './helpers/earshot-process.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { createTestDatabaseEnv } from './helpers/test-store.ts';
import { eventually } from './helpers/eventually.ts';

const rss = readFileSync(new URL('../crawlers/rss/fixtures/guardian-trimmed.rss', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'earshot-runtime-'));
// Processes start and crawl on their own clocks; a loaded machine gets time.
const waitFor = <T>(check: () => Promise<T | undefined>) => eventually(check, 90_000);


function writeConfig(name: string, targets: string): string {
  const file = join(scratch, name);
  writeFileSync(
    file,
    `brands: [{ name: Acme, keywords: [Trump, FBI] }]
teams: [{ id: support, name: Support }]
routing: { defaultTeam: support }
network: { allowPrivate: true } # the fakes listen on 127.0.0.1
targets:
${targets}
`,
  );
  return file;
}

async function openTestDatabase(env: Record<string, string>): Promise<Store> {
  return openStore(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { dataDir: env.EARSHOT_DATA_DIR });
}

// Each `earshot run` is a new process opening its database (seconds on PGlite); a loaded machine needs room.
describe('earshot run, the CLI beside it, and a kill -9', { timeout: 240_000 }, () => {
  let upstream: FixtureServer;
  let db: Awaited<ReturnType<typeof createTestDatabaseEnv>>;
  // The first request for the slow feed hangs, so a crawl is surely running when the product is killed.
  let slowRequests = 0;
  const hanging: ServerResponse[] = [];
  let running: EarshotProcess | undefined;

  beforeAll(async () => {
    upstream = await startFixtureServer({
      '/feed.xml': { headers: { 'content-type': 'application/rss+xml' }, body: rss },
      '/slow.xml': (_req, res) => {
        slowRequests++;
        if (slowRequests === 1) hanging.push(res);
        else res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss);
      },
    });
    db = await createTestDatabaseEnv();
  });
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    for (const res of hanging) res.destroy();
    await upstream?.close();
    await db?.drop();
  });

  it('runs store commands beside the product with their usual output, and resumes a crawl killed mid-way', async () => {
    const config = writeConfig(
      'run.yaml',
      `  - { id: news, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/feed.xml" } }
  - { id: slow, source: rss, brand: Acme, schedule: "0 0 1 1 *", params: { url: "${upstream.url}/slow.xml" } }`,
    );
    const env = { ...db.env, PORT: '0', EARSHOT_CONFIG: config };
    running = startEarshot(['run'], env);
    const started = await running.waitForLine(/^earshot is listening on /);
    expect(started).toMatch(/2 target\(s\) scheduled/);

    // Beside the running product on the same data directory: a key, then the API answers with it.
    const created = await runEarshot(['apikey', 'create', '--name', 'beside', '--scopes', 'read'], env);
    expect(created).toMatchObject({ code: 0, stderr: expect.stringMatching(/API key "beside" \(read, ID \d+\) created/) });
    const key = created.stdout.trim();
    expect(key).toMatch(/^esk_/);
    const address = /listening on (http:\/\/\S+) /.exec(started)![1]!;
    const targets = await fetch(`${address}/api/v1/targets`, { headers: { authorization: `Bearer ${key}` } });
    expect(targets.status).toBe(200);
    expect(((await targets.json()) as { data: { id: string }[] }).data.map((t) => t.id)).toEqual(['news', 'slow']);
    // Revoked beside it, by name: the running product refuses the key from the next request on.
    const revoked = await runEarshot(['apikey', 'revoke', 'beside'], env);
    expect(revoked).toMatchObject({ code: 0, stderr: expect.stringMatching(/^API key \d+ "beside" \(esk_[\w-]{8}…\) revoked/) });
    expect((await fetch(`${address}/api/v1/targets`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);

    // Both new targets are crawled at start; the slow one hangs: kill the product in the middle of it.
    await waitFor(async () => (hanging.length === 1 ? true : undefined));
    running.child.kill('SIGKILL');
    expect((await running.exited).signal).toBe('SIGKILL');

    running = startEarshot(['run'], env);
    await running.waitForLine(/^earshot is listening on /);
    // Until every target's last crawl is done (the news feed may have been interrupted too, and crawled again).
    const beside = await waitFor(async () => {
      const table = await runEarshot(['targets', '--json'], env);
      const health = table.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; lastRun: { status: string } | null });
      return table.code === 0 && health.length === 2 && health.every((t) => t.lastRun?.status === 'ok') ? table : undefined;
    });

    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
    running = undefined;
    // Alone, the same command prints the same lines.
    const alone = await runEarshot(['targets', '--json'], env);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toBe(beside.stdout);

    const store = await openTestDatabase(db.env);
    try {
      const slowRuns = await store.db.selectFrom('crawl_runs').select(['status', 'error']).where('target_id', '=', 'slow').orderBy('id').execute();
      expect(slowRuns.map((r) => r.status)).toEqual(['interrupted', 'ok']);
      expect(slowRuns[0]!.error).toMatch(/stopped \(killed or crashed\)/);
      const mentions = await store.db.selectFrom('mentions').select('external_id').execute();
      expect(new Set(mentions.map((m) => m.external_id)).size).toBe(mentions.length);
      expect(mentions.length).toBeGreaterThan(0);
      expect(await store.db.selectFrom('crawl_runs').select('id').where('status', '=', 'running').execute()).toEqual([]);
      expect(await store.db.selectFrom('processes').select('id').execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('keeps the roles for PostgreSQL, and says so', async () => {
    const run = await runEarshot(['worker'], { EARSHOT_DATA_DIR: join(scratch, 'none') });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/earshot worker shares the work with other processes through PostgreSQL: set DATABASE_URL/);
  });
});

// Roles need several processes on one database: PostgreSQL, in CI's second pass.
describe.runIf(process.env.DATABASE_URL)('one scheduler and three workers on PostgreSQL', { timeout: 240_000 }, () => {
  const feeds = ['a', 'b', 'c', 'd', 'e', 'f'];
  const servers = new Map<string, FixtureServer>();
  let db: Awaited<ReturnType<typeof createTestDatabaseEnv>>;
  const processes: EarshotProcess[] = [];
  let killAt: ServerResponse | null = null;
  let requestsOfC = 0;

  beforeAll(async () => {
    // One server per feed: each is its own host, with its own polite rate.
    for (const feed of feeds) {
      servers.set(feed, await startFixtureServer({
        '/feed.xml': (_req, res) => {
          if (feed === 'c' && ++requestsOfC === 2) {
            killAt = res;
            return;
          }
          res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss);
        },
      }));
    }
    db = await createTestDatabaseEnv();
  });
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    killAt?.destroy();
    for (const server of servers.values()) await server.close();
    await db?.drop();
  });

  it('crawls each due target once per fire, loses and doubles nothing when a worker is killed mid-crawl', async () => {
    const config = writeConfig(
      'roles.yaml',
      feeds.map((f) => `  - { id: feed-${f}, source: rss, brand: Acme, schedule: "*/4 * * * * *", params: { url: "${servers.get(f)!.url}/feed.xml" } }`).join('\n'),
    );
    const env = { ...db.env, EARSHOT_CONFIG: config };
    // All four start at the same moment on an empty database.
    processes.push(startEarshot(['scheduler'], env), ...[1, 2, 3].map(() => startEarshot(['worker', '--concurrency', '2'], env)));
    await Promise.all(processes.map((p) => p.waitForLine(/is running/)));
    const store = await openTestDatabase(db.env);
    try {
      // The second crawl of feed c hangs: kill the worker that holds it.
      await waitFor(async () => (killAt ? true : undefined));
      const holder = await store.db
        .selectFrom('job_leases as l')
        .innerJoin('processes as p', 'p.id', 'l.process_id')
        .select(['p.pid', 'p.id'])
        .where('l.target_id', '=', 'feed-c')
        .executeTakeFirstOrThrow();
      const victim = processes.find((p) => p.child.pid === holder.pid)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      // A surviving worker finds it dead (its pid is gone from this host) and crawls feed c again.
      await waitFor(async () => {
        const runs = await store.db.selectFrom('crawl_runs').select('status').where('target_id', '=', 'feed-c').orderBy('id').execute();
        const statuses = runs.map((r) => r.status);
        return statuses.includes('interrupted') && statuses.at(-1) === 'ok' ? true : undefined;
      });
      // Two more crawls of every feed after that, then stop.
      const since = new Date();
      await waitFor(async () => {
        const recent = await store.db.selectFrom('crawl_runs').select('target_id').where('status', '=', 'ok').where('started_at', '>', since).execute();
        return feeds.every((f) => recent.filter((r) => r.target_id === `feed-${f}`).length >= 2) ? true : undefined;
      });
      for (const p of processes.filter((x) => x !== victim)) p.child.kill('SIGTERM');
      for (const p of processes.filter((x) => x !== victim)) expect((await p.exited).code).toBe(0);

      const runs = await store.db.selectFrom('crawl_runs').select(['target_id', 'status', 'started_at', 'finished_at', 'process_id']).orderBy('id').execute();
      expect(runs.filter((r) => r.status === 'running')).toEqual([]);
      // Interrupted: what the killed worker was crawling (feed c, and whatever its other slot held), nothing else.
      const interrupted = runs.filter((r) => r.status === 'interrupted');
      expect(interrupted.map((r) => r.target_id)).toContain('feed-c');
      expect(interrupted.every((r) => r.process_id === holder.id)).toBe(true);
      for (const feed of feeds) {
        const mine = runs.filter((r) => r.target_id === `feed-${feed}`);
        // Never two crawls of one target at once: each starts after the previous one ended.
        for (let i = 1; i < mine.length; i++) expect(mine[i]!.started_at.getTime()).toBeGreaterThanOrEqual(mine[i - 1]!.finished_at!.getTime());
        // Every job ran at most once: no more crawls than jobs, and each completed job is one finished crawl. A
        // job the killed worker held failed: with its crawl interrupted, with none when it died before starting
        // it, or with its crawl finished when it died between closing the run and completing the job.
        const { rows } = await store.pool.query<{ state: string; n: string }>(
          `SELECT state, count(*) AS n FROM (SELECT state FROM pgboss.job WHERE name = 'crawl' AND singleton_key = $1
             UNION ALL SELECT state FROM pgboss.archive WHERE name = 'crawl' AND singleton_key = $1) j GROUP BY state`,
          [`feed-${feed}`],
        );
        const jobs = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
        const finished = mine.filter((r) => r.status === 'ok' || r.status === 'failed');
        expect(mine.length).toBeLessThanOrEqual(jobs('completed') + jobs('failed'));
        expect(jobs('completed')).toBeLessThanOrEqual(finished.length);
        expect(jobs('completed')).toBeGreaterThanOrEqual(finished.filter((r) => r.process_id !== holder.id).length);
        expect(jobs('failed')).toBeGreaterThanOrEqual(mine.filter((r) => r.status === 'interrupted').length);
      }
      // Every feed serves the same items: stored once, ticketed once per story.
      const mentions = await store.db.selectFrom('mentions').select('external_id').execute();
      expect(new Set(mentions.map((m) => m.external_id)).size).toBe(mentions.length);
      const tickets = await store.db.selectFrom('tickets').select('cluster_id').execute();
      expect(new Set(tickets.map((t) => t.cluster_id)).size).toBe(tickets.length);
      const outbox = await store.db.selectFrom('outbox').select('message_id').execute();
      expect(new Set(outbox.map((o) => o.message_id)).size).toBe(outbox.length);
    } finally {
      await store.close();
    }
  });
});
