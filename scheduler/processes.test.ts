import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { startCrawlRun } from '../store/crawl-runs.ts';
import { registerProcess } from '../store/processes.ts';
import { upsertTarget } from '../store/targets.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { describeThisProcess, recoverDeadProcesses } from './processes.ts';
import { CRAWL_QUEUE, startCrawlQueue, type CrawlQueue } from './queue.ts';

const NOW = new Date('2026-12-02T10:00:00Z');
// No process has this pid: the kernel's pid_max is far below it.
const GONE_PID = 2 ** 30;

describe('recovery from processes that died', () => {
  let store: Store;
  let queue: CrawlQueue;
  const self = describeThisProcess('worker', 2);

  beforeAll(async () => {
    store = await createTestStore();
    queue = await startCrawlQueue(store, silentLogger);
    await registerProcess(store.db, self);
    const brand = await upsertBrand(store.db, { name: 'Acme', keywords: ['acme'] }, NOW);
    for (const id of ['t-dead', 't-stale', 't-live', 't-old']) {
      await upsertTarget(store.db, { id, source: 'rss', brandIds: [brand.id], params: {}, schedule: '0 * * * *', enabled: true }, NOW);
    }
  });
  afterAll(async () => {
    await queue?.stop();
    await store?.close();
  });

  const jobState = async (id: string) =>
    (await store.pool.query<{ state: string }>(`SELECT state FROM pgboss.job WHERE id = $1`, [id])).rows[0]?.state;
  const pendingJobs = async (target: string) =>
    (await store.pool.query(`SELECT id FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state = 'created'`, [CRAWL_QUEUE, target])).rows.length;
  const runStatus = async (id: string) => (await store.db.selectFrom('crawl_runs').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  /** A process that took the target's crawl job and started its run. */
  async function holding(process: { id: string; host: string; pid: number }, target: string) {
    await registerProcess(store.db, { ...process, role: 'worker', concurrency: 1 });
    expect(await queue.enqueue(target)).toEqual(expect.any(String));
    const [job] = await queue.claim(process.id, 1);
    expect(job?.targetId).toBe(target);
    const runId = await startCrawlRun(store.db, target, NOW, process.id);
    return { jobId: job!.jobId, runId };
  }

  it('takes back the crawl of a process whose pid is gone from this host, or that stopped beating elsewhere', async () => {
    const dead = await holding({ id: 'p-dead', host: self.host, pid: GONE_PID }, 't-dead');
    const stale = await holding({ id: 'p-stale', host: 'another-host', pid: process.pid }, 't-stale');
    await sql`UPDATE processes SET heartbeat_at = now() - interval '5 minutes' WHERE id = 'p-stale'`.execute(store.db);
    // Alive on another host (its heartbeat is fresh) whatever its pid means here.
    const live = await holding({ id: 'p-live', host: 'another-host', pid: GONE_PID }, 't-live');

    const recovery = await recoverDeadProcesses({ db: store.db, queue, log: silentLogger, now: () => NOW, self, onlyProcess: false });
    expect(recovery.dead.sort()).toEqual(['p-dead', 'p-stale']);
    expect(recovery.requeued.sort()).toEqual(['t-dead', 't-stale']);
    expect(await jobState(dead.jobId)).toBe('failed');
    expect(await jobState(stale.jobId)).toBe('failed');
    expect(await runStatus(dead.runId)).toBe('interrupted');
    expect(await runStatus(stale.runId)).toBe('interrupted');
    expect(await pendingJobs('t-dead')).toBe(1);

    expect(await jobState(live.jobId)).toBe('active');
    expect(await runStatus(live.runId)).toBe('running');
    const processes = await store.db.selectFrom('processes').select('id').orderBy('id').execute();
    expect(processes.map((p) => p.id).sort()).toEqual(['p-live', self.id].sort());
    const leases = await store.db.selectFrom('job_leases').select('process_id').execute();
    expect(leases.map((l) => l.process_id)).toEqual(['p-live']);
  });

  it('on the embedded database every other process is dead, and runs no process recorded are closed too', async () => {
    const run = await startCrawlRun(store.db, 't-old', NOW, null);
    const recovery = await recoverDeadProcesses({ db: store.db, queue, log: silentLogger, now: () => NOW, self, onlyProcess: true });
    expect(recovery.dead).toEqual(['p-live']);
    expect(recovery.requeued.sort()).toEqual(['t-live', 't-old']);
    expect(await runStatus(run)).toBe('interrupted');
    const interrupted = await store.db.selectFrom('crawl_runs').select(['status', 'error']).where('target_id', '=', 't-live').executeTakeFirstOrThrow();
    expect(interrupted).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/stopped \(killed or crashed\)/) });
    // Nothing left to take back: a second sweep is a no-op.
    expect(await recoverDeadProcesses({ db: store.db, queue, log: silentLogger, now: () => NOW, self, onlyProcess: true })).toEqual({ dead: [], requeued: [] });
  });
});
