import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBrand, insertMention } from '../api/test-seed.ts';
import { connectorOf } from '../delivery/connectors/registry.ts';
import { slackConfigSchema } from '../delivery/connectors/slack.ts';
import { telegramConfigSchema } from '../delivery/connectors/telegram.ts';
import type { DeliveryDeps, Destination } from '../delivery/outbox.ts';
import { silentLogger } from '../log/logger.ts';
import { openTicketForMention } from '../pipeline/open-tickets.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import { handleDueDeliveries } from '../scheduler/worker.ts';
import { inTransaction, type Store } from '../store/connect.ts';
import { startSlackFake, SLACK_FAKE_PATH } from './helpers/slack-fake.ts';
import { startTelegramFake, type TelegramFake } from './helpers/telegram-fake.ts';
import { createTestStore } from './helpers/test-store.ts';

const TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
const CHAT = '-1001234567890';

// New tickets announced in a Telegram group and a Slack channel: each once, as valid messages, at the pace
// each allows (a Telegram group takes 20 a minute), on one clock shared with the fakes.
describe('ticket alerts in Telegram and Slack', () => {
  let store: Store;
  let telegram: TelegramFake;
  let slack: Awaited<ReturnType<typeof startSlackFake>>;
  let clock = new Date('2026-11-25T09:00:00Z');

  beforeAll(async () => {
    store = await createTestStore();
    telegram = await startTelegramFake({ token: TOKEN, limitPerChatPerSecond: true, now: () => clock.getTime() });
    slack = await startSlackFake();
  });
  afterAll(async () => {
    await Promise.all([telegram?.close(), slack?.close()]);
    await store?.close();
  });

  it('sends each new ticket once to each channel, paced, with the user text escaped', async () => {
    const brandId = await insertBrand(store.db, 'Acme');
    const policy = basicTicketPolicy({
      defaultTeam: 'support',
      channels: [{ id: 'tg', events: ['ticket.created'] }, { id: 'sl', events: ['ticket.created'] }],
    });
    for (let i = 0; i < 3; i++) {
      const id = await insertMention(store.db, {
        brandId, externalId: `ch${i}`, sentiment: 'negative', actionReasons: ['complaint'], text: `Заказ №${i} <не пришёл> & деньги не вернули`,
      });
      expect(await inTransaction(store.db, (trx) => openTicketForMention(trx, id, { policy, now: clock }))).toBe(true);
    }
    const channels: Record<string, Destination> = {
      tg: { connector: connectorOf('telegram'), config: telegramConfigSchema.parse({ id: 'tg', type: 'telegram', botToken: TOKEN, chatId: CHAT, apiUrl: telegram.url }) },
      sl: { connector: connectorOf('slack'), config: slackConfigSchema.parse({ id: 'sl', type: 'slack', url: `${slack.base}${SLACK_FAKE_PATH}` }) },
    };
    const deps: DeliveryDeps = {
      db: store.db, now: () => clock, log: silentLogger, nextSlot: new Map(),
      policy: { maxAttempts: 8, initialDelaySeconds: 5, maxDelaySeconds: 60, timeoutSeconds: 5 },
      destinationOf: (_kind, id) => channels[id],
      sleep: async (ms) => void (clock = new Date(clock.getTime() + ms)),
    };
    const report = await handleDueDeliveries(deps);
    expect(report).toMatchObject({ delivered: 6, retrying: 0, dead: 0 });

    expect(telegram.messages).toHaveLength(3);
    // 20 a minute in a group: three seconds apart, so the fake's flood control never had to refuse one.
    const gaps = telegram.messages.slice(1).map((m, i) => m.at - telegram.messages[i]!.at);
    expect(gaps.every((gap) => gap >= 3_000)).toBe(true);
    expect(telegram.messages.map((m) => m.text).join('\n')).toContain('&lt;не пришёл&gt; &amp; деньги');
    expect(slack.messages).toHaveLength(3);
    expect(JSON.stringify(slack.messages)).toContain('&lt;не пришёл&gt; &amp; деньги');
    const rows = await store.db.selectFrom('outbox').select(['destination_id', 'status', 'attempts']).execute();
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
  });
});
