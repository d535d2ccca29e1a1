import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBrand, insertMention, insertTarget, insertTicket, type MentionSeed } from '../api/test-seed.ts';
import { commandRouting } from '../bin/commands/routing.ts';
import type { CommandContext } from '../bin/context.ts';
import { UsageError } from '../bin/usage-error.ts';
import type { Store } from '../store/connect.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { catchAsync } from './helpers/catch-error.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { createTestStore } from './helpers/test-store.ts';

// `earshot routing test` in-process on a real store, output.stdout and output.stderr captured.
const output = captureOutput();

const NOW = new Date('2026-03-10T12:00:00Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3600_000);

// Our own config: two rules, two helpdesks, one channel for new tickets and one for broken targets only.
const scratch = mkdtempSync(join(tmpdir(), 'earshot-routing-'));
const configFile = join(scratch, 'earshot.yaml');
writeFileSync(
  configFile,
  `brands:
  - name: Kaspi
    keywords: [kaspi]
teams:
  - { id: support, name: Support }
  - { id: legal, name: Legal }
  - { id: almaty, name: Almaty stores }
routing:
  defaultTeam: support
  rules:
    - id: legal
      match:
        query: 'суд OR прокуратура'
      actions: { team: legal, priority: urgent, channels: [pr-tg] }
      continue: true
    - id: almaty
      match:
        team: [almaty]
        rating: { lte: 2 }
      actions: { team: almaty, helpdesks: [ud] }
helpdesks:
  - { id: ud, type: webhook, url: 'https://helpdesk.example.test/ud', secret: 'a-long-enough-secret-1' }
  - { id: zd, type: webhook, url: 'https://helpdesk.example.test/zd', secret: 'a-long-enough-secret-2' }
channels:
  - { id: care-tg, type: webhook, url: 'https://chat.example.test/care', secret: 'a-long-enough-secret-3' }
  - { id: pr-tg, type: webhook, url: 'https://chat.example.test/pr', secret: 'a-long-enough-secret-4', events: [target.failing] }
`,
);

let store: Store;
let ctx: CommandContext;
const ids: Record<'legal' | 'queue' | 'app' | 'praise' | 'copy' | 'old', string> = { legal: '', queue: '', app: '', praise: '', copy: '', old: '' };

async function seed(seedRow: MentionSeed, extra: { rating?: number; lang?: string } = {}): Promise<string> {
  const id = await insertMention(store.db, seedRow);
  if (extra.rating !== undefined || extra.lang !== undefined) {
    await store.db.updateTable('mentions').set({ rating: extra.rating ?? null, lang: extra.lang ?? 'ru' }).where('id', '=', id).execute();
  }
  return id;
}

beforeAll(async () => {
  store = await createTestStore();
  ctx = testCommandContext({ store, now: () => NOW });
  const brandId = await insertBrand(store.db, 'Kaspi');
  await insertTarget(store.db, { id: '2gis:almaty-1', source: '2gis', brandId });
  await store.db.updateTable('targets').set({ team: 'almaty' }).where('id', '=', '2gis:almaty-1').execute();
  const review = { brandId, source: '2gis', targetId: '2gis:almaty-1', sentiment: 'negative' as const };
  ids.old = await seed({ ...review, externalId: 'old', firstSeenAt: hoursAgo(240), text: 'Старый отзыв', actionReasons: ['complaint'] }, { rating: 1 });
  ids.legal = await seed({ ...review, externalId: 'legal', firstSeenAt: hoursAgo(1), text: 'Подам в суд на этот филиал', actionReasons: ['legal_threat'] }, { rating: 1 });
  ids.queue = await seed({ ...review, externalId: 'queue', firstSeenAt: hoursAgo(2), text: 'Очередь на час', actionReasons: ['complaint'] }, { rating: 2 });
  ids.app = await seed({ brandId, externalId: 'app', sentiment: 'negative', firstSeenAt: hoursAgo(3), text: 'Приложение снова не работает', actionReasons: ['complaint'] });
  ids.praise = await seed({ brandId, externalId: 'praise', sentiment: 'positive', firstSeenAt: hoursAgo(4), text: 'Спасибо, всё быстро' });
  ids.copy = await seed({ brandId, externalId: 'copy', source: 'telegram', sentiment: 'negative', firstSeenAt: hoursAgo(5), text: 'Приложение снова не работает', actionReasons: ['complaint'] });
  const ticket = await insertTicket(store.db, { mentionId: ids.app, brandId });
  // The copy joined the app mention's story, whose ticket it shares.
  const cluster = await store.db
    .insertInto('clusters')
    .values({ brand_id: brandId, representative_id: ids.app, size: 2, sources: ['rss', 'telegram'], first_seen_at: hoursAgo(5), last_seen_at: hoursAgo(3) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await store.db.updateTable('mentions').set({ cluster_id: cluster.id }).where('id', 'in', [ids.app, ids.copy]).execute();
  await store.db.updateTable('tickets').set({ cluster_id: cluster.id }).where('id', '=', ticket.id).execute();
});
afterAll(async () => {
  await store?.close();
});

const run = (...args: string[]) => commandRouting(['test', ...args, '--config', configFile], ctx);
const jsonLines = () => output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

describe('earshot routing test', () => {
  it('prints each recent mention with its team, priority, destinations and the rules that decided, then the counts', async () => {
    expect(await run()).toBe(0);
    const lines = output.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MENTION\s+SOURCE\s+SENTIMENT\s+ACTIONABLE\s+→ TEAM\s+PRIORITY\s+HELPDESKS\s+CHANNELS\s+RULES\s+TICKET NOW\s+WHY$/);
    // Newest first; the mention seen ten days ago is outside the default 7d.
    expect(lines.slice(1, 6).map((line) => line.split(/\s+/)[0])).toEqual([ids.legal, ids.queue, ids.app, ids.praise, ids.copy]);
    expect(lines[1]).toMatch(
      /^\d+\s+2gis\s+negative\s+yes\s+legal\s+urgent\s+ud\s+pr-tg\s+legal,almaty\s+none\s+legal: query found "суд"; almaty: team almaty, rating 1 ≤ 2$/,
    );
    expect(lines[2]).toMatch(/^\d+\s+2gis\s+negative\s+yes\s+almaty\s+normal\s+ud\s+care-tg\s+almaty\s+none\s+almaty: team almaty, rating 2 ≤ 2$/);
    // No rule: the default team, every helpdesk, the channels that subscribed to new tickets; it has a ticket now.
    expect(lines[3]).toMatch(/^\d+\s+rss\s+negative\s+yes\s+support\s+normal\s+ud,zd\s+care-tg\s+default\s+support$/);
    expect(lines[4]).toMatch(/^\d+\s+rss\s+positive\s+no\s+no ticket: not actionable\s+none$/);
    // A copy shows the ticket of its story.
    expect(lines[5]).toMatch(/^\d+\s+telegram\s+negative\s+yes\s+support\s+normal\s+ud,zd\s+care-tg\s+default\s+support$/);
    expect(lines.at(-1)).toBe(
      '5 mention(s) first seen in the last 7d: 4 routed (teams: support 2, almaty 1, legal 1), 0 ignored, 1 not actionable; ' +
        'rules: almaty 2, default 2, legal 1',
    );
    expect(output.stderr).toBe('');
  });

  it('--json prints one object per mention, then the summary', async () => {
    expect(await run('--json', '--since', '14d')).toBe(0);
    const lines = jsonLines();
    expect(lines.map((line) => line.id ?? 'summary')).toEqual([ids.legal, ids.queue, ids.app, ids.praise, ids.copy, ids.old, 'summary']);
    expect(lines[0]).toMatchObject({
      source: '2gis', targetId: '2gis:almaty-1', actionable: true, defaultPriority: 'high', ticket: null,
      decision: { team: 'legal', priority: 'urgent', helpdesks: ['ud'], channels: ['pr-tg'], ignored: false, rules: ['legal', 'almaty'] },
    });
    expect(lines[2]).toMatchObject({ ticket: { team: 'support' }, decision: { team: 'support', rules: [] } });
    expect(lines[3]).toMatchObject({ actionable: false, decision: null });
    expect(lines[4]!.ticket).toEqual(lines[2]!.ticket);
    expect(lines[5]).toMatchObject({ decision: { team: 'almaty', priority: 'high', rules: ['almaty'] } });
    expect(lines[6]).toEqual({
      summary: { mentions: 6, routed: 5, ignored: 0, notActionable: 1, teams: { legal: 1, almaty: 2, support: 2 }, rules: { legal: 1, almaty: 3, default: 2 } },
      since: '14d',
      limit: 200,
    });
  });

  it('--limit keeps the newest; hours work for --since', async () => {
    expect(await run('--json', '--limit', '2')).toBe(0);
    expect(jsonLines().map((line) => line.id ?? 'summary')).toEqual([ids.legal, ids.queue, 'summary']);
    output.stdout = '';
    expect(await run('--json', '--since', '2h')).toBe(0);
    expect(jsonLines().map((line) => line.id ?? 'summary')).toEqual([ids.legal, ids.queue, 'summary']);
  });

  it('says so when nothing was seen in the window', async () => {
    ctx = testCommandContext({ store, now: () => hoursAgo(400) });
    expect(await run()).toBe(0);
    expect(output.stdout).toBe('no mentions first seen in the last 7d\n');
    ctx = testCommandContext({ store, now: () => NOW });
  });

  // bin/cli.ts turns a UsageError into exit 2 with the message and the usage.
  it.each([
    [['--since', '7x'], '--since "7x": give hours or days, e.g. 24h or 7d'],
    [['--since', '0d'], '--since "0d": give hours or days, e.g. 24h or 7d'],
    [['--limit', 'lots'], '--limit "lots": give a whole number from 1 to 10000'],
  ])('rejects %j as bad input', async (args, message) => {
    const err = await catchAsync(run(...args));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
    expect(output.stdout).toBe('');
  });

  it('rejects a missing subcommand and an unknown option as bad input', async () => {
    expect(await catchAsync(commandRouting([], ctx))).toBeInstanceOf(UsageError);
    const unknown = await catchAsync(commandRouting(['test', '--sinse', '7d'], ctx));
    expect(unknown).toBeInstanceOf(UsageError);
    expect((unknown as Error).message).toMatch(/--sinse/);
  });
});
