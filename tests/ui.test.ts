// The inbox in Debian's Chromium (playwright-core, never a downloaded browser) against the real server on the
// test database: sign in, triage with the keyboard only, correct a sentiment, bulk-mark, filter through the URL,
// open a story, live arrivals, switch language; a viewer changes nothing; axe finds no serious violation on any
// page; screenshots of every page in both languages go to artifacts/screenshots.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { hashPassword } from '../lib/password.ts';
import type { Store } from '../store/connect.ts';
import { createUser } from '../store/users.ts';
import { buildUi, UI_DIST } from '../ui/build.ts';
import { launchChromium } from './helpers/chromium.ts';
import { createInboxWorld, seedInboxWorld, type InboxWorld } from './helpers/inbox-world.ts';
import { createTestStore } from './helpers/test-store.ts';

const SHOTS = join(process.cwd(), 'artifacts', 'screenshots');
const PASSWORD = 'correct horse battery staple';
const NOW = new Date('2026-11-20T09:00:00Z');

// A browser's steps are many small waits: each test gets two minutes, whatever the machine is doing.
describe('the inbox in a browser', { timeout: 120_000 }, () => {
  let store: Store;
  let world: InboxWorld;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const violations: string[] = [];

  beforeAll(async () => {
    await buildUi();
    store = await createTestStore();
    world = await createInboxWorld(store.db, NOW);
    await seedInboxWorld(store.db, world, { count: 80, now: NOW });
    const hash = await hashPassword(PASSWORD);
    for (const role of ['admin', 'agent', 'viewer'] as const) {
      await createUser(store.db, { email: `${role}@shop.kz`, role, passwordHash: hash, createdBy: 'cli' }, NOW);
    }
    app = await buildApp({
      db: store.db, storeKind: store.kind, ticketPolicy: world.policy, uiDir: UI_DIST, eventsPollMs: 100,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 240_000);

  // Chromium closes slowly on a loaded machine, and a page's event stream may outlive it by a moment: the
  // server's connections are ended before it closes, rather than waited for.
  afterAll(async () => {
    await browser?.close();
    app?.server.closeAllConnections();
    await app?.close();
    await store?.close();
  }, 180_000);

  async function signIn(email: string, locale = 'ru-RU'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale, timezoneId: 'Asia/Almaty', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    // A strict CSP that the app itself broke would show here.
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${base}/`);
    await page.locator('input[name=email]').fill(email);
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('.row').first().waitFor();
    return { context, page };
  }

  async function expectAccessible(page: Page, name: string): Promise<void> {
    await page.evaluate(axe.source);
    const result = await page.evaluate(() => {
      const g = globalThis as unknown as { axe: typeof axe; document: never };
      return g.axe.run(g.document, { resultTypes: ['violations'] });
    });
    const serious = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${name}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    expect(serious).toEqual([]);
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  }

  const focusedId = (page: Page) => page.locator('.row.focused').getAttribute('data-id');

  async function ticketOf(mentionId: string) {
    // In "needs a reply" each item is the mention that opened its ticket.
    return store.db.selectFrom('tickets').select(['status', 'assignee', 'status_reason']).where('mention_id', '=', mentionId).executeTakeFirst();
  }

  it('serves the app at / under a strict content security policy, with hashed assets cached for a year', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toMatch(/-[\w-]{8}\.js$/);
    const js = await fetch(`${base}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
  });

  it('signs an agent in with a plain form, and the login page passes axe', async () => {
    const context = await browser.newContext({ locale: 'ru-RU' });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('input[name=email]').waitFor();
    await expectAccessible(page, 'login');
    await shot(page, 'login-ru');
    await page.locator('input[name=email]').fill('agent@shop.kz');
    await page.locator('input[name=password]').fill('wrong password');
    await page.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('[role=alert]').count()).toBe(1);
    await context.close();
  });

  it('triages ten mentions with the keyboard only, corrects a sentiment and bulk-marks three as not relevant', async () => {
    const { context, page } = await signIn('agent@shop.kz');
    await expectAccessible(page, 'inbox');
    await shot(page, 'inbox-ru');

    // Ten solved with `s`: each leaves the list and the next one takes the focus.
    const solved: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await focusedId(page);
      expect(id).not.toBeNull();
      await page.keyboard.press('s');
      await expect.poll(() => focusedId(page), { message: `solving ${id}: ${await page.locator('.list-head').innerText()}` }).not.toBe(id);
      solved.push(id!);
    }
    for (const id of solved) {
      expect(await ticketOf(id)).toMatchObject({ status: 'solved' });
    }
    const history = await store.db.selectFrom('ticket_history').select('actor').where('kind', '=', 'status').execute();
    expect(history.filter((h) => h.actor === 'user:agent@shop.kz')).toHaveLength(10);

    // A sentiment corrected with `3` (positive): the correction names the agent.
    const corrected = (await focusedId(page))!;
    await page.keyboard.press('3');
    await expect
      .poll(async () => (await store.db.selectFrom('mentions').select('sentiment').where('id', '=', corrected).executeTakeFirst())?.sentiment)
      .toBe('positive');
    const correction = await store.db.selectFrom('mention_corrections').select(['actor', 'new_value']).where('mention_id', '=', corrected).executeTakeFirst();
    expect(correction).toMatchObject({ actor: 'user:agent@shop.kz', new_value: 'positive' });

    // Three selected with `x` and `j`, then one click: all three set aside as not relevant.
    await page.keyboard.press('j');
    const picked: string[] = [];
    for (let i = 0; i < 3; i++) {
      picked.push((await focusedId(page))!);
      await page.keyboard.press('x');
      await page.keyboard.press('j');
    }
    await expect.poll(() => page.locator('.row.selected').count()).toBe(3);
    await page.locator('.bulk-bar button', { hasText: 'Не по делу' }).click();
    await expect.poll(() => page.locator('.row.selected').count()).toBe(0);
    for (const id of picked) {
      expect(await ticketOf(id)).toMatchObject({ status: 'ignored' });
      expect(picked).not.toContain(await focusedId(page));
    }

    // `?` lists the shortcuts.
    await page.keyboard.press('?');
    await expect.poll(() => page.locator('dialog.shortcuts').isVisible()).toBe(true);
    await expectAccessible(page, 'shortcuts');
    await page.keyboard.press('Escape');
    await context.close();
  });

  it('filters by source through the URL, and opens a story with its copies', async () => {
    const { context, page } = await signIn('agent@shop.kz');
    await page.goto(`${base}/?view=mentions&source=2gis`);
    await page.locator('.row').first().waitFor();
    const sources = await page.locator('.row .chip.source').allInnerTexts();
    expect(sources.length).toBeGreaterThan(5);
    expect(new Set(sources)).toEqual(new Set(['2gis']));
    expect(await page.getByLabel('Источник').inputValue()).toBe('2gis');

    // A repost: item 24 repeats item 23 on another source, so its story has a copy.
    const repost = await store.db.selectFrom('mentions').select('id').where('external_id', '=', 'w24').executeTakeFirstOrThrow();
    await page.goto(`${base}/?view=mentions`);
    await page.locator('.row').first().waitFor();
    await page.goto(`${base}/mentions/${repost.id}`);
    await page.locator('.copies li').first().waitFor();
    expect(await page.locator('.copies li').allInnerTexts()).toContainEqual(expect.stringContaining('Покупатель 23'));
    expect(await page.locator('.detail-text mark').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'mention');
    await shot(page, 'mention-ru');
    await context.close();
  });

  it('shows new mentions as they arrive without moving the agent off the item in hand', async () => {
    const { context, page } = await signIn('agent@shop.kz');
    await page.goto(`${base}/?view=mentions&sort=newest`);
    await page.locator('.row').first().waitFor();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const held = await focusedId(page);
    const box = await page.locator('.row.focused').boundingBox();
    await seedInboxWorld(store.db, world, { count: 5, now: new Date(NOW.getTime() + 10 * 60_000), from: 80 });
    await expect.poll(() => page.locator('.list-head .live').innerText(), { timeout: 20_000 }).toMatch(/5/);
    expect(await focusedId(page)).toBe(held);
    await expect.poll(async () => (await page.locator('.row.focused').boundingBox())?.y).toBe(box?.y);
    await context.close();
  });

  it('switches to English and keeps the choice for the person', async () => {
    const { context, page } = await signIn('agent@shop.kz');
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('nav a[aria-current=page]').innerText()).toBe('Inbox');
    await shot(page, 'inbox-en');
    const stored = () => store.db.selectFrom('users').select('locale').where('email', '=', 'agent@shop.kz').executeTakeFirstOrThrow();
    await expect.poll(async () => (await stored()).locale).toBe('en');
    await context.close();
    // A new browser with a Russian locale: the person's choice wins.
    const again = await signIn('agent@shop.kz', 'ru-RU');
    await expect.poll(() => again.page.locator('nav a[aria-current=page]').innerText()).toBe('Inbox');
    await again.page.getByRole('button', { name: 'Русский' }).click();
    await expect.poll(() => again.page.locator('nav a[aria-current=page]').innerText()).toBe('Входящие');
    await again.context.close();
  });

  it('lets a viewer look but not change anything', async () => {
    const { context, page } = await signIn('viewer@shop.kz');
    expect(await page.locator('.row input[type=checkbox]').count()).toBe(0);
    expect(await page.locator('.ticket-actions').count()).toBe(0);
    const id = (await focusedId(page))!;
    const before = await ticketOf(id);
    await page.keyboard.press('s');
    await page.keyboard.press('n');
    // The server refuses a viewer's write whatever the page does.
    const status = await page.evaluate(async (mentionId) => {
      const session = (await (await fetch('/api/v1/session')).json()) as { csrf_token: string };
      const res = await fetch('/api/v1/inbox/actions', {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
        body: JSON.stringify({ mention_ids: [mentionId], action: 'solve' }),
      });
      return res.status;
    }, id);
    expect(status).toBe(403);
    expect(await ticketOf(id)).toEqual(before);
    await context.close();
  });

  it('every page passes axe and is photographed in both languages', async () => {
    for (const locale of ['ru', 'en'] as const) {
      const { context, page } = await signIn('admin@shop.kz', locale === 'ru' ? 'ru-RU' : 'en-US');
      for (const path of ['/', '/dashboard', '/sources', '/people']) {
        await page.goto(`${base}${path}`);
        await page.locator('main h1').first().waitFor({ state: 'attached' });
        await page.waitForFunction(() => !/Загрузка…|Loading…/.test((globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText));
        await expectAccessible(page, `${path} (${locale})`);
        await shot(page, `${path === '/' ? 'inbox' : path.slice(1)}-${locale}-admin`);
      }
      await context.close();
    }
    expect(violations).toEqual([]);
  });
});
