import { benchDedupe } from './dedupe.ts';
import { benchIngest, type IngestMix } from './ingest.ts';
import { benchRecovery, benchSchedule } from './runtime.ts';
import { benchSentiment } from './sentiment.ts';

// `npm run bench -- <name>`: every benchmark prints JSON lines on stdout.
const benches: Record<string, () => Promise<void>> = {
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
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !Object.hasOwn(benches, n));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (benches: ${Object.keys(benches).join(', ')})\n`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(benches)) await benches[name]!();
