import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEarshot, runEarshot, type EarshotProcess } from './helpers/earshot-process.ts';
import { eventually } from './helpers/eventually.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { createTestDatabaseEnv } from './helpers/test-store.ts';
import { startUsedeskFake, type UsedeskFake } from './helpers/usedesk-fake.ts';

// Usedesk has no idempotency key: a create whose answer never came may still have landed. Here the process
// dies after Usedesk stored the ticket and before earshot could commit that it did.
const BRANCH = '70000001000000042';
const API_PATH = `/3.0/branches/${BRANCH}/reviews`;
const PAGE_2 = `${API_PATH}?${new URLSearchParams({ offset_date: '2026-07-13T18:02:59.330017+05:00' })}`;
const TOKEN = 'e1cbe1c1c9d910ef2ae975215644cb53dd555de4';
const fixture = (name: string) => readFileSync(new URL(`../crawlers/2gis/fixtures/${name}`, import.meta.url), 'utf8');
const json = { 'content-type': 'application/json; charset=utf-8' };
// Processes start and deliver on their own clocks; a loaded machine gets time.
const waitFor = <T>(check: () => Promise<T | undefined>) => eventually(check, 120_000);

describe('a process killed between a Usedesk create and its commit', { timeout: 300_000 }, () => {
  let upstream: FixtureServer;
  let usedesk: UsedeskFake;
  let db: Awaited<ReturnType<typeof createTestDatabaseEnv>>;
  let running: EarshotProcess | undefined;
  let killed = false;

  beforeAll(async () => {
    upstream = await startFixtureServer({
      [`/almaty/firm/${BRANCH}`]: { headers: { 'content-type': 'text/html; charset=utf-8' }, body: fixture('firm-page-2gis-ae.html') },
      [API_PATH]: { headers: json, body: fixture('constructed-reviews-page-1.json') },
      [PAGE_2]: { headers: json, body: fixture('constructed-reviews-page-2.json') },
    });
    // The first create is stored, then the process is killed before Usedesk answers.
    usedesk = await startUsedeskFake({
      token: TOKEN,
      onCreate: async () => {
        if (killed) return;
        killed = true;
        running!.child.kill('SIGKILL');
        await running!.exited;
        throw new Error('the client is gone');
      },
    });
    db = await createTestDatabaseEnv();
  });
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await Promise.all([upstream?.close(), usedesk?.close()]);
    await db?.drop();
  });

  it('leaves one Usedesk ticket per ticket after a restart', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'earshot-crash-')), 'earshot.yaml');
    writeFileSync(config, `brands: [{ name: Acme Coffee, keywords: [acme] }]
teams: [{ id: almaty, name: Almaty }]
routing: { defaultTeam: almaty }
network: { allowPrivate: true } # the fakes listen on 127.0.0.1
helpdesks:
  - { id: ud, type: usedesk, url: "${usedesk.url}", apiToken: "\${USEDESK_TOKEN}", requestsPerSecond: 20 }
delivery: { timeoutSeconds: 2 }
targets:
  - { id: 2gis-almaty, source: 2gis, brand: Acme Coffee, schedule: "0 0 1 1 *",
      params: { branchId: "${BRANCH}", city: almaty, baseUrl: "${upstream.url}", reviewsApiUrl: "${upstream.url}/3.0/" } }
`);
    const env = { ...db.env, PORT: '0', EARSHOT_CONFIG: config, USEDESK_TOKEN: TOKEN };
    running = startEarshot(['run'], env);
    await waitFor(async () => (killed ? true : undefined));
    expect((await running.exited).signal).toBe('SIGKILL');
    expect(usedesk.tickets).toHaveLength(1);

    running = startEarshot(['run'], env);
    await running.waitForLine(/^earshot is listening on /);
    const tickets = await waitFor(async () => {
      const listed = await runEarshot(['tickets', '--json'], env);
      const docs = listed.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; external: { helpdesk: string; id: string }[] });
      return listed.code === 0 && docs.length === 2 && docs.every((t) => t.external.length === 1) ? docs : undefined;
    });
    running.child.kill('SIGTERM');
    await running.exited;
    running = undefined;

    // One Usedesk ticket for each of ours: the unanswered create was found by its additional_id, not repeated.
    expect(usedesk.tickets.map((t) => t.additional_id).sort()).toEqual(tickets.map((t) => t.id).sort());
    expect(tickets.map((t) => t.external[0]!.id).sort()).toEqual(usedesk.tickets.map((t) => String(t.id)).sort());
    expect(usedesk.requests.filter((r) => r.path === 'tickets').length).toBeGreaterThanOrEqual(1);
  });
});
