// The API server the api bench drives, in a process of its own so that the load tool does not share its event
// loop: the store named by DATABASE_URL or EARSHOT_DATA_DIR, the app as `earshot api` builds it, request log
// lines included (on stderr, which the bench sends to a file).
// Prints `listening <url>` once it answers; SIGTERM closes it.
import { sql } from 'kysely';
import { buildApp } from '../api/app.ts';
import { openStore } from '../store/connect.ts';

const store = await openStore({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.EARSHOT_DATA_DIR });
const app = await buildApp({ db: store.db, storeKind: store.kind, logger: { level: 'info', stream: process.stderr }, checkAnswers: false });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
// What a running earshot does between crawls: its job queue writes every second or so, and each write makes the
// answer cache build its answers again. BENCH_CHURN_MS: how often a transaction id is taken here (0: never).
const churnMs = Number(process.env.BENCH_CHURN_MS ?? 1000);
const churn = churnMs > 0 ? setInterval(() => void sql`SELECT pg_current_xact_id()`.execute(store.db), churnMs) : null;
process.once('SIGTERM', () => {
  if (churn) clearInterval(churn);
  void app.close().then(() => store.close()).then(() => process.exit(0));
});
// After the handler: the bench may stop it the moment it reads this.
process.stdout.write(`listening ${address}\n`);
