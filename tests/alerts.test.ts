import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBrand, insertMention } from '../api/test-seed.ts';
import { channelRoutesOf } from '../config/channel-routes.ts';
import { parseConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { crawlers } from '../crawlers/registry.ts';
import type { DeliveryDeps } from '../delivery/outbox.ts';
import { silentLogger } from '../log/logger.ts';
import { openTicketForMention } from '../pipeline/open-tickets.ts';
import { changeTickets } from '../pipeline/ticket-changes.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';
import { sweepAlerts, startActionPolling } from '../scheduler/alert-sweep.ts';
import { destinationsOf, ticketPolicyOf } from '../scheduler/sync-config.ts';
import { handleDueDeliveries } from '../scheduler/worker.ts';
import { inTransaction, type Store } from '../store/connect.ts';
import { getIncident, listIncidents } from '../store/incidents.ts';
import { eventually } from './helpers/eventually.ts';
import { startSlackFake, SLACK_FAKE_PATH } from './helpers/slack-fake.ts';
import { startSmtpFake, type SmtpFake } from './helpers/smtp-fake.ts';
import { startTelegramFake, type TelegramFake } from './helpers/telegram-fake.ts';
import { createTestStore } from './helpers/test-store.ts';
import { startWebhookReceiver } from './helpers/webhook-receiver.ts';

const TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
const CHAT = '-1001234567890';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// The whole alerting path against local Telegram, Slack, SMTP and webhook servers, on one clock shared with the
// fakes: a ticket's card edited when the ticket is solved; a crisis opened, escalated, acknowledged from a button
// and resolved, as one card per channel; the tickets of the crisis held back from the channels; a digest.
describe('alerts and crises, end to end', () => {
  let store: Store;
  let telegram: TelegramFake;
  let slack: Awaited<ReturnType<typeof startSlackFake>>;
  let smtp: SmtpFake;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let clock = new Date('2026-11-02T02:00:00Z'); // 07:00 in Almaty, a Monday
  let config: EarshotConfig;
  let policy: TicketPolicy;
  let brandId: number;
  let serial = 0;

  const now = () => clock;
  const advance = (ms: number) => void (clock = new Date(clock.getTime() + ms));

  function deliveryDeps(): DeliveryDeps {
    return {
      db: store.db, now, log: silentLogger, nextSlot: new Map(),
      policy: { maxAttempts: 8, initialDelaySeconds: 5, maxDelaySeconds: 60, timeoutSeconds: 5 },
      destinationOf: destinationsOf(config), channels: channelRoutesOf(config), publicUrl: config.publicUrl ?? null,
      sleep: async (ms) => advance(ms),
    };
  }
  const deliver = () => handleDueDeliveries(deliveryDeps());
  const sweep = () => sweepAlerts({ db: store.db, now, log: silentLogger, channels: policy.channels, crisis: { enabled: true, escalateAfterSeconds: 900 } });

  async function negative(author: string, text: string, opts: { ticket?: boolean } = {}): Promise<string> {
    const id = await insertMention(store.db, {
      brandId, externalId: `m${++serial}`, sentiment: 'negative', actionReasons: ['complaint'], text,
      author: { name: author, handle: author, followers: 1200 }, firstSeenAt: clock, publishedAt: clock,
    });
    if (opts.ticket !== false) await inTransaction(store.db, (trx) => openTicketForMention(trx, id, { policy, now: clock }));
    return id;
  }

  beforeAll(async () => {
    store = await createTestStore();
    telegram = await startTelegramFake({ token: TOKEN, limitPerChatPerSecond: true, limitPerGroupPerMinute: true, now: () => clock.getTime() });
    slack = await startSlackFake();
    smtp = await startSmtpFake();
    hook = await startWebhookReceiver();
    config = parseConfig(
      `
brands:
  - name: Acme
    keywords: [acme]
teams:
  - id: support
    name: Support
routing:
  defaultTeam: support
network: { allowPrivate: true } # the fakes listen on 127.0.0.1
publicUrl: https://earshot.acme.kz
channels:
  - id: tg
    type: telegram
    botToken: "${TOKEN}"
    chatId: "${CHAT}"
    apiUrl: ${telegram.url}
    digest: { at: "09:00", timeZone: Asia/Almaty }
  - id: sl
    type: slack
    url: ${slack.base}${SLACK_FAKE_PATH}
    events: [ticket.created, incident.opened, incident.escalated, incident.resolved]
  - id: mail
    type: email
    smtp: ${smtp.url()}
    from: "earshot <alerts@acme.kz>"
    to: [pr@acme.kz]
    events: [incident.opened, incident.escalated, incident.resolved]
  - id: hook
    type: webhook
    url: ${hook.url}/alerts
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
`,
      { crawlers, env: {} },
    );
    policy = ticketPolicyOf(config);
    brandId = await insertBrand(store.db, 'Acme');
    // Three weeks of a quiet brand: two negative and eight other mentions a day, from many people.
    const start = clock.getTime() - 21 * 24 * HOUR;
    for (let day = 0; day < 21; day++) {
      for (let i = 0; i < 10; i++) {
        const at = new Date(start + day * 24 * HOUR + (i * 2 + 1) * HOUR + ((day * 7 + i * 13) % 50) * MINUTE);
        await insertMention(store.db, {
          brandId, externalId: `bg-${day}-${i}`, sentiment: i < 2 ? 'negative' : i < 6 ? 'neutral' : 'positive',
          author: { name: `person${day}-${i}` }, firstSeenAt: at, publishedAt: at, text: `background ${day} ${i}`,
        });
      }
    }
  });
  afterAll(async () => {
    await Promise.all([telegram?.close(), slack?.close(), smtp?.close(), hook?.close()]);
    await store?.close();
  });

  it('edits a ticket alert in place when the ticket is solved, and tells the machines', async () => {
    await negative('ann', 'Acme charged me twice <b>and</b> nobody answers');
    await deliver();
    // The group wait holds a new ticket's alert for a minute: nothing is out yet.
    expect(telegram.inChat(CHAT)).toHaveLength(0);
    advance(61_000);
    await deliver();
    const [card] = telegram.inChat(CHAT);
    expect(card?.text).toContain('Acme charged me twice &lt;b&gt;and&lt;/b&gt; nobody answers');
    expect(card?.reply_markup?.inline_keyboard.flat().map((b) => b.text).join(' ')).toMatch(/Not relevant/);
    expect(slack.messages).toHaveLength(1);
    expect(hook.received.map((r) => JSON.parse(r.body).type)).toEqual(['ticket.created']);

    const { ticketId } = (await store.db.selectFrom('tickets').select('id as ticketId').executeTakeFirstOrThrow());
    await inTransaction(store.db, (trx) => changeTickets(trx, [{ ticketId, actor: 'agent', kind: 'update', set: { status: 'solved' } }], { policy, now: clock }));
    advance(5_000);
    await deliver();
    const chat = telegram.inChat(CHAT);
    expect(chat).toHaveLength(1);
    expect(chat[0]!.message_id).toBe(card!.message_id);
    expect(chat[0]!.versions).toHaveLength(2);
    expect(chat[0]!.text).toMatch(/solved/i);
    // Nothing left to press on a solved ticket.
    expect(chat[0]!.reply_markup?.inline_keyboard.flat().filter((b) => b.callback_data) ?? []).toEqual([]);
    // Slack's incoming webhook cannot edit: it is not sent the refresh; the webhook hears the change.
    expect(slack.messages).toHaveLength(1);
    expect(hook.received.map((r) => JSON.parse(r.body).type)).toEqual(['ticket.created', 'ticket.updated']);
  });

  it('opens one incident for a burst, holds the burst tickets back, escalates, is acknowledged by a button, resolves, and sends a digest', async () => {
    advance(10 * MINUTE);
    const before = telegram.inChat(CHAT).length;
    // Six complaints from five people within two hours, on a brand with two negatives a day: a warning.
    const authors = ['bob', 'cid', 'dan', 'eve', 'fay', 'bob'];
    for (const [i, author] of authors.entries()) {
      await negative(author, `Acme card blocked again, support ignores me (${i})`);
      advance(20 * MINUTE);
      await sweep();
      await deliver();
    }
    let [incident] = (await listIncidents(store.db, { limit: 5 })).incidents;
    // The incident's card waits for the group wait, like a ticket's.
    advance(61_000);
    await deliver();
    expect(incident).toMatchObject({ status: 'open', severity: 'warning', brand: 'Acme' });
    const incidentCard = () => telegram.inChat(CHAT).find((m) => m.text.includes(`Incident: ${incident!.id}`));
    expect(incidentCard()).toBeDefined();
    expect(incidentCard()!.text).toMatch(/expected/);

    // Six more within the hour: critical, the same incident escalated, its cards edited or followed up.
    for (const author of ['gus', 'hal', 'ida', 'jon', 'kim', 'lea']) {
      await negative(author, 'Acme blocked my card and took the money');
      advance(5 * MINUTE);
    }
    await sweep();
    advance(61_000);
    await deliver();
    incident = (await getIncident(store.db, incident!.id))!;
    expect(incident).toMatchObject({ severity: 'critical', status: 'open', escalationReason: 'severity' });
    expect(incidentCard()!.versions.length).toBeGreaterThan(1);
    expect(incidentCard()!.text).toMatch(/critical/i);

    // The tickets of the burst still opened, linked to the incident; only those that went out before it opened
    // reached the chat on their own.
    const linked = await store.db.selectFrom('tickets').select('id').where('incident_id', '=', incident.id).execute();
    expect(linked.length).toBeGreaterThanOrEqual(10);
    const ticketCards = telegram.inChat(CHAT).slice(before).filter((m) => m !== incidentCard() && /New ticket/.test(m.text));
    expect(ticketCards.length).toBeLessThan(6);
    const suppressed = await store.db.selectFrom('outbox').select('id').where('status', '=', 'suppressed').where('event_type', '=', 'ticket.created').execute();
    expect(suppressed.length).toBeGreaterThanOrEqual(linked.length - ticketCards.length - 1);

    // A held-back ticket solved meanwhile has no card in the chat: nothing to refresh, so no card appears.
    const heldTicket = linked.map((t) => t.id).find((id) => !telegram.inChat(CHAT).some((m) => m.text.includes(`Ticket: ${id}\n`) || m.text.endsWith(`Ticket: ${id}`)))!;
    const chatBefore = telegram.inChat(CHAT).length;
    await inTransaction(store.db, (trx) => changeTickets(trx, [{ ticketId: heldTicket, actor: 'agent', kind: 'update', set: { status: 'solved' } }], { policy, now: clock }));
    await deliver();
    expect(telegram.inChat(CHAT)).toHaveLength(chatBefore);
    expect(await store.db.selectFrom('outbox').select(['status', 'last_error']).where('ticket_id', '=', heldTicket).where('destination_id', '=', 'tg').where('event_type', '=', 'ticket.updated').execute())
      .toEqual([{ status: 'suppressed', last_error: 'no card of it in this channel to refresh' }]);

    // A PR lead presses Acknowledge in Telegram: read by long polling, the incident is acknowledged, the card edited.
    const ack = incidentCard()!.reply_markup!.inline_keyboard.flat().find((b) => b.callback_data?.startsWith('ack|incident:'));
    expect(ack).toBeDefined();
    const polling = startActionPolling({
      channels: config.channels.map((c) => destinationsOf(config)('channel', c.id)!),
      handler: { db: store.db, now, log: silentLogger, channels: policy.channels, policy },
      log: silentLogger, waitSeconds: 1, retryMs: 50,
    });
    try {
      await telegram.press(CHAT, incidentCard()!.message_id, ack!.callback_data!, { id: 42, first_name: 'Lena', username: 'lena_pr' });
      await eventually(async () => ((await getIncident(store.db, incident!.id))?.status === 'acknowledged' ? true : undefined));
      await eventually(async () => (telegram.answers.length > 0 ? true : undefined));
    } finally {
      await polling.stop();
    }
    expect((await getIncident(store.db, incident.id))!.acknowledgedBy).toBe('telegram:@lena_pr');
    advance(5_000);
    await deliver();
    expect(incidentCard()!.text).toContain('lena_pr');
    expect(incidentCard()!.reply_markup?.inline_keyboard.flat().some((b) => b.callback_data?.startsWith('ack|')) ?? false).toBe(false);

    // A day and more of calm: resolved by the detector; the daily digest at 09:00 Almaty went out on the way.
    for (let i = 0; i < 60 && (await getIncident(store.db, incident.id))!.status !== 'resolved'; i++) {
      advance(30 * MINUTE);
      await sweep();
      await deliver();
    }
    incident = (await getIncident(store.db, incident.id))!;
    expect(incident).toMatchObject({ status: 'resolved', resolvedBy: 'detector' });
    advance(5_000);
    await deliver();
    expect(incidentCard()!.text).toMatch(/resolved/i);

    // One card per channel that edits; lifecycle notices where a channel cannot edit; one thread in the mailbox.
    const incidentCards = telegram.inChat(CHAT).filter((m) => m.text.includes(`Incident: ${incident!.id}`));
    expect(incidentCards).toHaveLength(1);
    const slackIncident = slack.messages.map((m) => String(m.text)).filter((t) => /spiking|escalated|back to normal/.test(t));
    expect(slackIncident).toEqual([
      expect.stringContaining('Negative talk about Acme is spiking'), expect.stringContaining('escalated to critical'), expect.stringContaining('back to normal'),
    ]);
    expect(smtp.messages).toHaveLength(3);
    const root = smtp.messages[0]!.messageId;
    expect(smtp.messages.slice(1).every((m) => m.inReplyTo === root && m.references.includes(root!))).toBe(true);
    const hookTypes = hook.received.map((r) => JSON.parse(r.body).type as string).filter((t) => t.startsWith('incident.'));
    expect(hookTypes).toEqual(expect.arrayContaining(['incident.opened', 'incident.escalated', 'incident.resolved']));

    const digest = telegram.inChat(CHAT).find((m) => /digest/i.test(m.text));
    expect(digest?.text).toContain('Acme');
  }, 120_000);
});
