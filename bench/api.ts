// The pull API under load: a store the size of a busy deployment (tests/helpers/bulk-store.ts), the server in a
// process of its own (bench/api-server.ts), and autocannon driving each list endpoint at fixed rates with 50
// connections. One JSON line per endpoint and rate; the load average and the server's CPU share say how busy the
// machine was.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { encodeCursor } from '../api/cursor.ts';
import { createApiKey } from '../store/api-keys.ts';
import { migrateToLatest } from '../store/connect.ts';
import { seedBulkStore } from '../tests/helpers/bulk-store.ts';
import { benchDatabase } from './runtime.ts';

export interface ApiBenchOptions {
  db: 'pglite' | 'postgres';
  databaseUrl: string | undefined;
  /** Default: 1,000,000 on PostgreSQL, 100,000 on PGlite. */
  mentions: number | undefined;
  /** Default: a tenth of the mentions. */
  tickets: number | undefined;
  rates: number[];
  seconds: number;
  connections: number;
  /** Endpoint names to drive; default all. */
  endpoints: string[] | undefined;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export async function benchApi(opts: ApiBenchOptions): Promise<void> {
  if (opts.db === 'postgres' && !opts.databaseUrl) throw new Error('--db postgres needs DATABASE_URL');
  const mentions = opts.mentions ?? (opts.db === 'postgres' ? 1_000_000 : 100_000);
  const tickets = opts.tickets ?? Math.floor(mentions / 10);
  const database = await benchDatabase(opts.db, opts.databaseUrl);
  let server: ChildProcess | null = null;
  try {
    const store = await database.open();
    let key: string;
    let seeded;
    const seedStarted = performance.now();
    try {
      await migrateToLatest(store.db);
      seeded = await seedBulkStore(store.db, { mentions, tickets, now: new Date() });
      key = (await createApiKey(store.db, { name: 'bench', scopes: ['read'] })).key;
    } finally {
      await store.close();
    }
    print({ bench: 'api-seed', db: opts.db, mentions: seeded.mentions, clusters: seeded.clusters, tickets: seeded.tickets, seconds: Math.round((performance.now() - seedStarted) / 100) / 10 });

    const log = join(tmpdir(), `earshot-bench-api-${process.pid}.log`);
    const started = await startServer({ ...process.env, ...database.env }, log);
    server = started.child;
    const base = started.url;
    // A path, or a path per request: the varied ones ask for another page each time, so that no two requests share
    // an answer (the answer cache's misses, what a page costs to build).
    const randomId = (n: number) => String(1 + Math.floor(Math.random() * (n - 1)));
    const endpoints: Record<string, string | (() => string)> = {
      health: '/health',
      mentions: '/api/v1/mentions?limit=50',
      mentions_brand_negative: '/api/v1/mentions?limit=50&brand=Kaspi&sentiment=negative',
      mentions_deep_cursor: `/api/v1/mentions?limit=50&cursor=${encodeCursor({ id: String(Math.floor(seeded.mentions / 2)) })}`,
      tickets: `/api/v1/tickets?limit=100&cursor=${encodeCursor({ seq: String(Math.floor(seeded.tickets / 2)) })}`,
      // The same page to a client that accepts gzip (as Python's requests, Go's net/http and Node's fetch do).
      tickets_gzip: `/api/v1/tickets?limit=100&cursor=${encodeCursor({ seq: String(Math.floor(seeded.tickets / 2)) })}`,
      targets: '/api/v1/targets',
      inbox_needs_reply: '/api/v1/inbox?view=needs_reply&limit=50',
      inbox_mentions: '/api/v1/inbox?view=mentions&limit=50',
      deliveries: '/api/v1/deliveries?limit=50',
      incidents: '/api/v1/incidents',
      mentions_varied: () => `/api/v1/mentions?limit=50&cursor=${encodeCursor({ id: randomId(seeded.mentions) })}`,
      tickets_varied: () => `/api/v1/tickets?limit=100&cursor=${encodeCursor({ seq: randomId(seeded.tickets) })}`,
      inbox_varied: () => `/api/v1/inbox?view=mentions&sort=newest&limit=50&cursor=${encodeCursor({ v: 'mentions', s: 'newest', id: randomId(seeded.mentions) })}`,
    };
    const names = opts.endpoints ?? Object.keys(endpoints);
    for (const name of names) {
      const endpoint = endpoints[name];
      if (endpoint === undefined) throw new Error(`unknown endpoint ${name} (endpoints: ${Object.keys(endpoints).join(', ')})`);
      // A few requests first: each must answer 200; then the median of ten one at a time is what one costs unloaded.
      const times: number[] = [];
      let bytes = 0;
      // fetch asks for gzip by default, autocannon for nothing: each is told which, and bytes are the wire's.
      const headers = { authorization: `Bearer ${key}`, 'accept-encoding': name.endsWith('_gzip') ? 'gzip' : 'identity' };
      for (let i = 0; i < 13; i++) {
        const t = performance.now();
        const path = typeof endpoint === 'string' ? endpoint : endpoint();
        const res = await fetch(base + path, { headers });
        const body = await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${name}: ${path} answered ${res.status}: ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
        if (i >= 3) times.push(performance.now() - t);
        bytes = Number(res.headers.get('content-length') ?? body.byteLength);
      }
      times.sort((a, b) => a - b);
      print({ bench: 'api-unloaded', db: opts.db, mentions: seeded.mentions, endpoint: name, median_ms: Math.round(times[5]! * 10) / 10, bytes });
      for (const rate of opts.rates) {
        const cpuBefore = cpuSeconds(server.pid!);
        // autocannon's p99 at a fixed rate corrects for coordinated omission as if a request were due every
        // millisecond (each slow answer also counts the answers it delayed); the answers' own times are kept here
        // too, from its response events.
        const times: number[] = [];
        const run = autocannon({
          url: base + (typeof endpoint === 'string' ? endpoint : endpoint()),
          ...(typeof endpoint === 'string' ? {} : { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: endpoint() }) }] }),
          headers,
          connections: opts.connections,
          overallRate: rate,
          duration: opts.seconds,
          timeout: 10,
        }) as unknown as autocannon.Instance & Promise<autocannon.Result>; // the tracker: an emitter that is also thenable
        run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
          if (status === 200) times.push(ms);
        });
        const result = await run;
        times.sort((a, b) => a - b);
        const pct = (p: number) => (times.length === 0 ? null : Math.round(times[Math.min(times.length - 1, Math.floor(times.length * p))]! * 10) / 10);
        const cpu = cpuSeconds(server.pid!) - cpuBefore;
        const ok = result['2xx'];
        print({
          bench: 'api', db: opts.db, mentions: seeded.mentions, endpoint: name, rate,
          achieved_rps: Math.round((ok / result.duration) * 10) / 10,
          p50_ms: result.latency.p50, p99_ms: result.latency.p99, answer_p50_ms: pct(0.5), answer_p99_ms: pct(0.99),
          errors: result.errors + result.timeouts + result.non2xx,
          server_cpu_pct: Math.round((cpu / result.duration) * 100),
          load1: Math.round(loadavg()[0]! * 100) / 100,
        });
      }
    }
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await database.drop();
  }
}

/** utime + stime of a process, in seconds (Linux, 100 ticks a second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startServer(env: NodeJS.ProcessEnv, logFile: string): Promise<{ child: ChildProcess; url: string }> {
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./api-server.ts', import.meta.url).pathname], {
    env, stdio: ['ignore', 'pipe', fd],
  });
  closeSync(fd);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the API server exited with ${code} before listening; see ${logFile}`)));
  });
  return { child, url };
}
