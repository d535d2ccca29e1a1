// The embedded default as `npm start` runs it: `earshot run` on PGlite with the example config, in a process of
// its own. How long until /health answers on an empty data directory and on an existing one, how much memory
// the process holds when idle, and how much after 10,000 mentions were stored through crawls.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { runEarshot, startEarshot, type EarshotProcess } from '../tests/helpers/earshot-process.ts';
import { startFixtureServer, type FixtureServer } from '../tests/helpers/fixture-server.ts';

export interface MemoryBenchOptions {
  /** Mentions stored through crawls before the last measurement; default 10,000. */
  mentions?: number;
  /** Items per feed, one crawl each; default 1,000. */
  perFeed?: number;
  /** How long the process is left alone before its idle memory is read; default 60 s. */
  settleSeconds?: number;
  /** Extra environment for the `earshot run` process (say, NODE_OPTIONS to try V8 flags). */
  env?: Record<string, string>;
}

const EXAMPLE_CONFIG = new URL('../config/earshot.example.yaml', import.meta.url);
const BRAND = 'Жетысу Маркет';
const HEALTH_POLL_MS = 25;
const SAMPLE_MS = 1000;

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'memory', db: 'pglite', ...line })}\n`);
}

/** VmRSS and VmHWM (the peak) of a process, in MB, from /proc; null once it has gone. */
function memoryOf(pid: number): { rss: number; peak: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The example config as it ships, with every target's addresses moved to the local fake (which answers 404, so
 * those crawls fail at once, as a moved feed would): nothing reaches the internet. A source this bench does not
 * know how to point elsewhere has its targets disabled rather than let them out.
 */
export function offlineExampleConfig(local: string): string {
  const doc = YAML.parseDocument(readFileSync(EXAMPLE_CONFIG, 'utf8'));
  const targets = doc.get('targets') as YAML.YAMLSeq<YAML.YAMLMap>;
  const urlParams: Record<string, string[]> = {
    'app-store': ['baseUrl'],
    'google-play': ['baseUrl'],
    '2gis': ['baseUrl', 'reviewsApiUrl'],
    telegram: ['baseUrl'],
    vk: ['baseUrl'],
    reddit: ['baseUrl', 'authUrl', 'rssBaseUrl'],
  };
  for (const target of targets.items) {
    const source = String(target.get('source'));
    const id = String(target.get('id'));
    const params = target.get('params') as YAML.YAMLMap;
    if (source === 'rss') {
      if (params.has('url')) params.set('url', `${local}/example/${id}.xml`);
      else params.set('baseUrl', `${local}/example/${id}`);
    } else if (urlParams[source]) {
      for (const key of urlParams[source]) params.set(key, key === 'reviewsApiUrl' ? `${local}/example/${id}/3.0/` : `${local}/example/${id}`);
    } else {
      target.set('enabled', false);
    }
  }
  return doc.toString();
}

// Short texts that name the example brand, in the languages its users write in; each item gets one with a serial.
const TEXTS = [
  'опять списали деньги дважды, поддержка молчит уже третий день',
  'на Абая отличный сервис, спасибо кассиру Айгерим',
  'доставка задержалась на два часа, курьер не отвечает',
  'дүкенінде кезек өте ұзын болды, қызмет көрсету нашар',
  'ilovasi ishlamayapti, pulimni qaytaring',
  'app keeps crashing after the last update, please fix it',
  'почему приложение не работает с утра? Верните деньги за заказ',
  'купила молоко, срок годности истёк вчера. Безобразие!',
  'открыли новый магазин в Талгаре, цены приятно удивили',
  'great prices and friendly staff, will come back',
];

function feedXml(feed: number, items: number, now: Date): string {
  const entries: string[] = [];
  for (let i = 0; i < items; i++) {
    const n = feed * items + i;
    const text = `${BRAND}: ${TEXTS[n % TEXTS.length]} (№${n}, ${(n * 7919) % 10007})`;
    const published = new Date(now.getTime() - n * 60_000).toUTCString();
    entries.push(
      `<item><guid isPermaLink="false">bench-${n}</guid><title>${BRAND} №${n}</title><link>https://news.example.kz/${n}</link>` +
        `<pubDate>${published}</pubDate><description>${text}</description></item>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>bench ${feed}</title><link>https://news.example.kz/</link><description>bench</description>${entries.join('')}</channel></rss>`;
}

/** Starts `earshot run`, polls /health until it answers 200: the ms from spawn, and the process. */
async function startAndWaitForHealth(env: Record<string, string>, port: number): Promise<{ running: EarshotProcess; ms: number }> {
  const started = performance.now();
  const running = startEarshot(['run'], env);
  let exited = false;
  void running.exited.then(() => (exited = true));
  for (;;) {
    if (exited) {
      const { stdout, stderr } = running.output();
      throw new Error(`earshot run exited before /health answered:\n${stdout}\n${stderr}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.arrayBuffer();
      if (res.status === 200) return { running, ms: Math.round(performance.now() - started) };
    } catch {
      // Not listening yet.
    }
    await sleep(HEALTH_POLL_MS);
  }
}

/** Samples the process's memory every second for `seconds`: the last reading, the highest, and the peak. */
async function settle(pid: number, seconds: number): Promise<{ rss_mb: number; rss_max_mb: number; peak_mb: number }> {
  let max = 0;
  let last = { rss: NaN, peak: NaN };
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const m = memoryOf(pid);
    if (!m) throw new Error(`process ${pid} went away while settling`);
    last = m;
    max = Math.max(max, m.rss);
    await sleep(SAMPLE_MS);
  }
  return { rss_mb: last.rss, rss_max_mb: max, peak_mb: last.peak };
}

async function stop(running: EarshotProcess): Promise<{ ms: number; code: number | null }> {
  const t = performance.now();
  running.child.kill('SIGTERM');
  const run = await running.exited;
  return { ms: Math.round(performance.now() - t), code: run.code };
}

/**
 * `earshot run` with the example config on a fresh data directory: time to the first 200 from /health (empty
 * directory, then again on the existing one), idle memory after `settleSeconds`, and memory after
 * `mentions` mentions were stored by `earshot crawl` commands run inside the product (feeds of `perFeed` items
 * from a local server). Prints one JSON line per phase.
 */
export async function benchMemory(opts: MemoryBenchOptions = {}): Promise<void> {
  const mentions = opts.mentions ?? 10_000;
  const perFeed = Math.min(opts.perFeed ?? 1000, mentions);
  const settleSeconds = opts.settleSeconds ?? 60;
  const feeds = Math.ceil(mentions / perFeed);
  const now = new Date();
  const routes: Record<string, (req: unknown, res: import('node:http').ServerResponse) => void> = {};
  for (let f = 0; f < feeds; f++) {
    const items = Math.min(perFeed, mentions - f * perFeed);
    const xml = feedXml(f, items, now);
    routes[`/feed-${f}.xml`] = (_req, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(xml);
  }
  const upstream: FixtureServer = await startFixtureServer(routes);
  const scratch = mkdtempSync(join(tmpdir(), 'earshot-bench-memory-'));
  const config = join(scratch, 'earshot.yaml');
  writeFileSync(config, offlineExampleConfig(upstream.url));
  const port = await freePort();
  const env = { EARSHOT_DATA_DIR: join(scratch, 'data'), EARSHOT_CONFIG: config, PORT: String(port), LOG_LEVEL: 'warn', ...opts.env };
  const load = () => Math.round(loadavg()[0]! * 100) / 100;
  let running: EarshotProcess | null = null;
  try {
    for (const cold of [true, false]) {
      const started = await startAndWaitForHealth(env, port);
      running = started.running;
      const pid = running.child.pid!;
      print({ phase: 'health_ready', cold, ms: started.ms, rss_mb: memoryOf(pid)?.rss, load1: load() });
      await running.waitForLine(/^earshot is listening on /);
      print({ phase: 'idle', cold, settle_s: settleSeconds, ...(await settle(pid, settleSeconds)), load1: load() });
      if (!cold) break;
      print({ phase: 'stop', cold, ...(await stop(running)) });
      running = null;
    }

    const pid = running!.child.pid!;
    const t = performance.now();
    let stored = 0;
    let peakDuring = 0;
    for (let f = 0; f < feeds; f++) {
      const crawl = await runEarshot(['crawl', 'rss', '--target', JSON.stringify({ url: `${upstream.url}/feed-${f}.xml` }), '--brand', BRAND], env);
      const summary = JSON.parse(crawl.stdout.trim().split('\n').at(-1) ?? 'null') as { new?: number; status?: string } | null;
      if (crawl.code !== 0 || summary?.status !== 'ok') throw new Error(`crawl of feed ${f} failed (${crawl.code}):\n${crawl.stdout}\n${crawl.stderr}`);
      stored += summary.new ?? 0;
      peakDuring = Math.max(peakDuring, memoryOf(pid)?.rss ?? 0);
    }
    const after = memoryOf(pid)!;
    print({ phase: 'crawled', mentions: stored, feeds, seconds: Math.round((performance.now() - t) / 100) / 10, rss_mb: after.rss, rss_max_mb: Math.max(peakDuring, after.rss), peak_mb: after.peak, load1: load() });
    print({ phase: 'idle_after_crawl', mentions: stored, settle_s: settleSeconds, ...(await settle(pid, settleSeconds)), load1: load() });
    print({ phase: 'stop', cold: false, ...(await stop(running!)) });
    running = null;
    const unexpected = upstream.requests.filter((r) => !r.path.startsWith('/feed-') && !r.path.startsWith('/example/'));
    if (unexpected.length > 0) throw new Error(`unexpected requests to the fake: ${unexpected.map((r) => r.path).join(', ')}`);
  } finally {
    if (running) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    await upstream.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
