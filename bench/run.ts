import { parseArgs } from 'node:util';
import { benchApi } from './api.ts';
import { benchCrisis } from './crisis.ts';
import { benchTelegramFlood } from './telegram-flood.ts';
import { benchDedupe } from './dedupe.ts';
import { benchHelpdesk, type HelpdeskPart } from './helpdesk.ts';
import { benchInbox } from './inbox.ts';
import { benchMemory } from './memory.ts';
import { benchIngest, type IngestMix } from './ingest.ts';
import { benchRecovery, benchSchedule } from './runtime.ts';
import { benchSentiment } from './sentiment.ts';

// `npm run bench -- <name> [--flags]`: every benchmark prints JSON lines on stdout.
const { positionals: names, values: flags } = parseArgs({
  allowPositionals: true,
  options: {
    mentions: { type: 'string' }, tickets: { type: 'string' }, rates: { type: 'string' }, db: { type: 'string' },
    seconds: { type: 'string' }, connections: { type: 'string' }, endpoints: { type: 'string' },
  },
});
const numberFlag = (name: keyof typeof flags): number | undefined => {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1) throw new Error(`--${name}: a whole number above 0 (got "${String(raw)}")`);
  return n;
};

const benches: Record<string, () => Promise<void>> = {
  // The pull API at fixed rates on a seeded store: --mentions N, --rates 100,250,500, --db pglite|postgres (postgres
  // needs DATABASE_URL), --seconds 30 per rate, --connections 50, --endpoints mentions,tickets,...
  api: async () => {
    const dbs = flags.db ? [flags.db] : process.env.DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];
    for (const db of dbs) {
      if (db !== 'pglite' && db !== 'postgres') throw new Error(`--db: pglite or postgres (got "${db}")`);
      await benchApi({
        db, databaseUrl: process.env.DATABASE_URL, mentions: numberFlag('mentions'), tickets: numberFlag('tickets'),
        rates: (flags.rates ?? '100,250,500').split(',').map(Number), seconds: numberFlag('seconds') ?? 30,
        connections: numberFlag('connections') ?? 50, endpoints: flags.endpoints?.split(','),
      });
    }
  },
  ingest: () =>
    benchIngest({
      n: Number(process.env.BENCH_N ?? 10_000), databaseUrl: process.env.DATABASE_URL, only: process.env.BENCH_DB,
      mixes: process.env.BENCH_MIX ? (process.env.BENCH_MIX.split(',') as IngestMix[]) : ['realistic', 'viral'],
    }),
  sentiment: () => benchSentiment({ limit: Number(process.env.BENCH_N ?? 20_000) }),
  dedupe: () =>
    benchDedupe({
      sizes: (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number),
      databaseUrl: process.env.DATABASE_URL,
      seed: Number(process.env.BENCH_SEED ?? 1),
    }),
  // 40 feeds every 20 s for BENCH_MINUTES: earshot run on PGlite; scheduler + 2 workers on PostgreSQL.
  schedule: () =>
    benchSchedule({
      targets: Number(process.env.BENCH_N ?? 40), minutes: Number(process.env.BENCH_MINUTES ?? 5), databaseUrl: process.env.DATABASE_URL, only: process.env.BENCH_DB,
    }),
  recovery: () => benchRecovery({ databaseUrl: process.env.DATABASE_URL, only: process.env.BENCH_DB }),
  // The crisis detector replayed on generated months: burst detection delays, false alarms per brand-week, replay speed.
  crisis: async () => {
    await benchCrisis({ seeds: Number(process.env.BENCH_SEEDS ?? 5), days: Number(process.env.BENCH_DAYS ?? 28) });
    await benchTelegramFlood({ tickets: Number(process.env.BENCH_N ?? 60) });
  },
  // Tickets into the Usedesk and Zendesk fakes: deliveries per ticket, the default-rate drain, a 60 s outage, latency.
  helpdesk: () =>
    benchHelpdesk({
      n: Number(process.env.BENCH_N ?? 200), databaseUrl: process.env.DATABASE_URL, only: process.env.BENCH_DB,
      outageSeconds: Number(process.env.BENCH_OUTAGE_S ?? 60), latencySeconds: Number(process.env.BENCH_LATENCY_S ?? 30),
      usedeskRps: Number(process.env.BENCH_USEDESK_RPS ?? 50), zendeskRpm: Number(process.env.BENCH_ZENDESK_RPM ?? 3000),
      parts: process.env.BENCH_PARTS?.split(',') as HelpdeskPart[] | undefined,
    }),
  // earshot run on PGlite as a user starts it: time to /health on an empty and an existing data directory, RSS idle
  // and after storing BENCH_N mentions (default 10,000) through crawls, BENCH_SETTLE_S after each (default 60).
  memory: () => benchMemory({ mentions: Number(process.env.BENCH_N ?? 10_000), settleSeconds: Number(process.env.BENCH_SETTLE_S ?? 60) }),
  // The inbox in Chromium on a store of BENCH_N mentions (default 100,000): first paint, a bulk action on 50.
  inbox: () =>
    benchInbox({ n: Number(process.env.BENCH_N ?? 100_000), databaseUrl: process.env.DATABASE_URL, only: process.env.BENCH_DB, runs: Number(process.env.BENCH_RUNS ?? 5) }),
};

const unknown = names.filter((n) => !Object.hasOwn(benches, n));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (benches: ${Object.keys(benches).join(', ')})\n`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(benches)) await benches[name]!();
