// The inbox with a large store: time to first paint (the first rows on screen after a load, signed in) and the
// time to apply one bulk action to 50 selected mentions, in Debian's Chromium against the real server.
import { buildApp } from '../api/app.ts';
import { hashPassword } from '../lib/password.ts';
import { migrateToLatest } from '../store/connect.ts';
import { createUser } from '../store/users.ts';
import { buildUi, UI_DIST } from '../ui/build.ts';
import { launchChromium } from '../tests/helpers/chromium.ts';
import { createInboxWorld, seedInboxWorld } from '../tests/helpers/inbox-world.ts';
import { benchDatabase } from './runtime.ts';


function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchInbox(opts: { n: number; databaseUrl: string | undefined; only: string | undefined; runs: number }): Promise<void> {
  await buildUi();
  const kinds = (['pglite', 'postgres'] as const).filter((k) => (opts.only ? k === opts.only : k === 'pglite' || opts.databaseUrl));
  for (const kind of kinds) {
    const database = await benchDatabase(kind, opts.databaseUrl);
    const store = await database.open();
    try {
      await migrateToLatest(store.db);
      const now = new Date();
      const world = await createInboxWorld(store.db, now);
      const seedStarted = performance.now();
      const stored = await seedInboxWorld(store.db, world, { count: opts.n, now, pageSize: 500, distinct: true });
      const seedMs = performance.now() - seedStarted;
      const tickets = Number((await store.db.selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      await createUser(store.db, { email: 'bench@shop.kz', role: 'agent', passwordHash: await hashPassword('bench password 1'), createdBy: 'cli' }, now);
      const app = await buildApp({ db: store.db, storeKind: store.kind, ticketPolicy: world.policy, uiDir: UI_DIST });
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${base}/`);
        await page.locator('input[name=email]').fill('bench@shop.kz');
        await page.locator('input[name=password]').fill('bench password 1');
        await page.locator('button[type=submit]').click();
        await page.locator('.row').first().waitFor();
        for (const view of ['needs_reply', 'mentions'] as const) {
          const paints: number[] = [];
          for (let run = 0; run < opts.runs; run++) {
            const started = Date.now();
            await page.goto(`${base}/?view=${view}`);
            await page.locator('.row').first().waitFor();
            paints.push(Date.now() - started);
          }
          print({ bench: 'inbox-first-paint', db: kind, mentions: stored, tickets, view, runs: opts.runs, median_ms: median(paints), max_ms: Math.max(...paints) });
        }
        // 50 mentions selected with the keyboard, then one click: the time until the list shows the result.
        const bulk: number[] = [];
        for (let run = 0; run < opts.runs; run++) {
          await page.goto(`${base}/?view=mentions&sort=newest`);
          await page.locator('.row').first().waitFor();
          for (let i = 0; i < run * 50; i++) await page.keyboard.press('j');
          for (let i = 0; i < 50; i++) {
            await page.keyboard.press('x');
            await page.keyboard.press('j');
          }
          await page.locator('.bulk-bar').waitFor();
          const started = Date.now();
          await page.locator('.bulk-bar button').nth(2).click(); // not relevant
          await page.locator('.bulk-bar').waitFor({ state: 'detached' });
          bulk.push(Date.now() - started);
        }
        print({ bench: 'inbox-bulk-50', db: kind, mentions: stored, action: 'not_relevant', runs: opts.runs, median_ms: median(bulk), max_ms: Math.max(...bulk) });
        print({ bench: 'inbox-seed', db: kind, mentions: stored, tickets, seconds: Math.round(seedMs / 100) / 10 });
        await context.close();
      } finally {
        await browser.close();
        await app.close();
      }
    } finally {
      await store.close();
      await database.drop();
    }
  }
}
