import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/connect.ts';
import { runEarshot } from './helpers/earshot-process.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { createTestDatabaseEnv } from './helpers/test-store.ts';

const APP_STORE_FIXTURE = new URL('../crawlers/app-store/fixtures/customerreviews-us-full.json', import.meta.url).pathname;
const RSS_FIXTURE = new URL('../crawlers/rss/fixtures/guardian-trimmed.rss', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'earshot-cli-files-'));

function withIdSuffix(entry: unknown, suffix: string): unknown {
  const e = entry as { id: { label: string } };
  return { ...e, id: { ...e.id, label: `${e.id.label}${suffix}` } };
}

const lastJsonLine = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('earshot parse', () => {
  it('prints one valid mention per line for a recording it has not seen', async () => {
    const run = await runEarshot(['parse', 'app-store', APP_STORE_FIXTURE]);
    expect(run.code).toBe(0);
    const mentions = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(mentions).toHaveLength(50);
    for (const m of mentions) {
      expect(m).toMatchObject({ source: 'app-store', externalId: expect.stringMatching(/^\d+$/), text: expect.any(String) });
      expect(m.rating).toBeGreaterThanOrEqual(1);
      expect(Number.isNaN(Date.parse(m.publishedAt as string))).toBe(false);
    }
    const rss = await runEarshot(['parse', 'rss', RSS_FIXTURE]);
    expect(rss.code).toBe(0);
    expect(rss.stdout.trim().split('\n')).toHaveLength(10);
  });

  it('prints nothing for an empty feed and exits 0; fails clearly on a page of another shape', async () => {
    const recording = JSON.parse(readFileSync(APP_STORE_FIXTURE, 'utf8')) as { feed: Record<string, unknown> };
    delete recording.feed.entry;
    const empty = join(scratch, 'empty.json');
    writeFileSync(empty, JSON.stringify(recording));
    expect(await runEarshot(['parse', 'app-store', empty])).toMatchObject({ code: 0, stdout: '' });

    const other = join(scratch, 'other.json');
    writeFileSync(other, JSON.stringify({ feed: { entry: [{ id: 5 }] } }));
    const changed = await runEarshot(['parse', 'app-store', other]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/feed\.entry/);

    expect((await runEarshot(['parse', 'nope', other])).code).toBe(2);
  });
});

describe('earshot config', () => {
  it('checks the example and reports a bad file with path and line', async () => {
    expect((await runEarshot(['config', 'check'])).code).toBe(0);
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(bad, readFileSync(new URL('../config/earshot.example.yaml', import.meta.url), 'utf8').replace('"15 */2 * * *"', '"*/61 * * * *"'));
    const run = await runEarshot(['config', 'check', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.yaml:\d+:\d+: targets\[0\]\.schedule: invalid cron expression "\*\/61 \* \* \* \*"/);
    const schema = JSON.parse((await runEarshot(['config', 'schema'])).stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['brands', 'targets', 'channels', 'helpdesks']));
  });

  it('reports a brand query nested 3,000 deep on one line with its path and line, without a stack trace', async () => {
    const example = readFileSync(new URL('../config/earshot.example.yaml', import.meta.url), 'utf8');
    const deep = `${'('.repeat(3000)}жетысу${')'.repeat(3000)}`;
    const commented = "    # query: '(\"жетысу маркет\" OR жетысумаркет OR \"zhetysu market\") -вакансия'";
    expect(example).toContain(commented);
    const file = join(scratch, 'deep-query.yaml');
    writeFileSync(file, example.replace(commented, `    query: '${deep}'`));
    const line = example.split('\n').indexOf(commented) + 1;
    const run = await runEarshot(['config', 'check', file]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      `invalid config ${file}, 1 problem:`,
      `${file}:${line}:5: brands[0].query: query syntax: column 101: nesting deeper than 100 levels (parentheses, NOTs and NEARs inside each other)`,
    ]);
  });
});

// Each run is a new process opening PGlite (seconds each); under a loaded CI machine three of them in one
// test outlast the default timeout.
describe('earshot crawl', { timeout: 120_000 }, () => {
  let upstream: FixtureServer;
  let db: Awaited<ReturnType<typeof createTestDatabaseEnv>>;
  let onPage: (page: number) => void = () => {};
  const recording = JSON.parse(readFileSync(APP_STORE_FIXTURE, 'utf8')) as { feed: { entry: unknown[] } & Record<string, unknown> };
  const entries = recording.feed.entry.slice(1);

  beforeAll(async () => {
    const routes: Record<string, (req: unknown, res: import('node:http').ServerResponse) => void> = {};
    for (let page = 1; page <= 10; page++) {
      for (const appId of ['42', '43']) {
        routes[`/kz/rss/customerreviews/page=${page}/id=${appId}/sortby=mostrecent/json`] = (_req, res) => {
          onPage(page);
          // The second app's reviews get ids of their own, so its crawl stores them whatever ran before.
          const slice = entries.slice((page - 1) * 10, page * 10).map((e) => (appId === '42' ? e : withIdSuffix(e, appId)));
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ feed: slice.length ? { ...recording.feed, entry: slice } : { ...recording.feed, entry: undefined } }));
        };
      }
    }
    routes['/feed.xml'] = (_req, res) => res.end(readFileSync(RSS_FIXTURE));
    upstream = await startFixtureServer(routes);
    db = await createTestDatabaseEnv();
  });
  afterAll(async () => {
    await upstream?.close();
    await db?.drop();
  });

  const target = () => JSON.stringify({ appId: '42', country: 'kz', baseUrl: upstream.url });

  it('a child killed half-way, then two runs: nothing lost, nothing twice, and the last adds nothing', async () => {
    let child: ChildProcess | undefined;
    onPage = (page) => {
      if (page === 3) child?.kill('SIGKILL');
    };
    const killed = await runEarshot(['crawl', 'app-store', '--target', target(), '--brand', 'Acme'], db.env, (c) => (child = c));
    expect(killed.signal).toBe('SIGKILL');
    onPage = () => {};

    const first = await runEarshot(['crawl', 'app-store', '--target', target(), '--brand', 'Acme'], db.env);
    expect(first.code).toBe(0);
    const summary = lastJsonLine(first.stdout);
    expect(summary).toMatchObject({ fetched: 49, updated: 0, status: 'ok' });
    expect(Number(summary.new) + Number(summary.duplicates)).toBe(49);
    expect(Number(summary.new)).toBeLessThan(49);

    const second = await runEarshot(['crawl', 'app-store', '--target', target(), '--brand', 'Acme'], db.env);
    expect(lastJsonLine(second.stdout)).toMatchObject({ new: 0, updated: 0, tickets: 0, duplicates: 10, pages: 1 });

    const store = await openStore(db.env.DATABASE_URL ? { databaseUrl: db.env.DATABASE_URL } : { dataDir: db.env.EARSHOT_DATA_DIR });
    try {
      const mentions = await store.db.selectFrom('mentions').select('external_id').execute();
      expect(new Set(mentions.map((m) => m.external_id)).size).toBe(49);
      expect(mentions).toHaveLength(49);
      const tickets = await store.db.selectFrom('tickets').select('mention_id').execute();
      // One ticket per mention that needs a reply: every 1–2★ review, plus questions and complaints at 3★ and above.
      const actionable = await store.db.selectFrom('mentions').select('id').where('actionable', '=', true).execute();
      const lowRated = await store.db.selectFrom('mentions').select('id').where('rating', '<=', 2).execute();
      expect(tickets.map((t) => t.mention_id).sort()).toEqual(actionable.map((m) => m.id).sort());
      expect(actionable.map((m) => m.id)).toEqual(expect.arrayContaining(lowRated.map((m) => m.id)));
      expect(actionable.length).toBeGreaterThan(lowRated.length);
    } finally {
      await store.close();
    }
  });

  it('--dry-run reports what a crawl would store and keeps nothing', async () => {
    const args = ['crawl', 'rss', '--target', JSON.stringify({ url: `${upstream.url}/feed.xml` }), '--brand', 'News', '--keywords', 'Trump,FBI'];
    const dry = await runEarshot([...args, '--dry-run'], db.env);
    expect(dry.code).toBe(0);
    const summary = lastJsonLine(dry.stdout);
    expect(summary).toMatchObject({ fetched: 10, dryRun: true, status: 'ok' });
    expect(Number(summary.new)).toBeGreaterThan(0);
    const real = await runEarshot(args, db.env);
    expect(lastJsonLine(real.stdout)).toMatchObject({ new: summary.new, tickets: summary.tickets });
  });

  it('--record saves the raw responses that parse reads back, and targets shows the health table', async () => {
    const dir = join(scratch, 'recorded');
    const run = await runEarshot(['crawl', 'app-store', '--target', JSON.stringify({ appId: '43', country: 'kz', baseUrl: upstream.url }), '--brand', 'Acme', '--record', dir], db.env);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/recorded 6 response\(s\) in /);
    // Pages 1-5 hold 49 reviews, page 6 is the empty end of the feed.
    const firstPage = await runEarshot(['parse', 'app-store', join(dir, '001-127.0.0.1.json')]);
    expect(firstPage.code).toBe(0);
    const mentions = firstPage.stdout.trim().split('\n').map((l) => JSON.parse(l) as { externalId: string });
    expect(mentions.map((m) => m.externalId)).toEqual(entries.slice(0, 10).map((e) => `${(e as { id: { label: string } }).id.label}43`));
    expect(readFileSync(join(dir, '001-127.0.0.1.meta.json'), 'utf8')).toContain('/kz/rss/customerreviews/page=1/id=43/');

    const table = await runEarshot(['targets'], db.env);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^TARGET\s+SOURCE\s+BRAND\s+STATE\s+LAST SUCCESS\s+ERRORS\s+NEXT RUN\s+24H\s+LAST MENTION\s+LAST ERROR$/);
    // The recorded reviews are years old: the crawl works, and the target shows as silent.
    const appRows = rows.filter((r) => r.includes('cli-app-store-'));
    expect(appRows.length).toBeGreaterThan(0);
    for (const row of appRows) expect(row).toMatch(/app-store\s+Acme\s+ok, silent\s+\d+s ago\s+0\s+-\s+49\s+\d+d ago$/);
    const json = await runEarshot(['targets', '--json'], db.env);
    const health = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: string; state: string; mentions24h: number });
    expect(health.filter((h) => h.source === 'app-store').every((h) => h.state === 'ok')).toBe(true);
  });

  it('rejects bad arguments with a clear message', async () => {
    const run = await runEarshot(['crawl', 'app-store', '--target', '{"appId":"x"}', '--brand', 'Acme'], db.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--target appId/);
  });
});
