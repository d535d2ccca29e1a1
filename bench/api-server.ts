// The API server the api bench drives, in a process of its own so that the load tool does not share its event
// loop: the store named by DATABASE_URL or EARSHOT_DATA_DIR, the app as `earshot api` builds it, request log
// lines included (on stderr, which the bench sends to a file).
// Prints `listening <url>` once it answers; SIGTERM closes it.
import { buildApp } from '../api/app.ts';
import { openStore } from '../store/connect.ts';

const store = await openStore({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.EARSHOT_DATA_DIR });
const app = await buildApp({ db: store.db, storeKind: store.kind, logger: { level: 'info', stream: process.stderr } });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${address}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => store.close()).then(() => process.exit(0));
});
