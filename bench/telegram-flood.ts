import { insertBrand, insertMention } from '../api/test-seed.ts';
import { telegramConfigSchema } from '../delivery/connectors/telegram.ts';
import { connectorOf } from '../delivery/connectors/registry.ts';
import type { DeliveryDeps } from '../delivery/outbox.ts';
import { silentLogger } from '../log/logger.ts';
import { openTicketForMention } from '../pipeline/open-tickets.ts';
import { changeTickets } from '../pipeline/ticket-changes.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import { handleDueDeliveries } from '../scheduler/worker.ts';
import { inTransaction, migrateToLatest } from '../store/connect.ts';
import { startTelegramFake } from '../tests/helpers/telegram-fake.ts';
import { benchDatabase } from './runtime.ts';

const TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
const CHAT = '-1001234567890';

/**
 * `crisis-telegram`: ticket cards and their edits into one Telegram group on a Bot API fake that answers 429
 * (with retry_after) above one message a second per chat and 20 a minute per group, on a simulated clock:
 * once as the product runs (paced by the worker), once with the pacing off, so every limit is met by a 429.
 * Nothing may be lost or sent twice: one card per ticket, each edited once.
 */
export async function benchTelegramFlood(opts: { tickets: number }): Promise<void> {
  for (const paced of [true, false]) {
    let clock = new Date('2026-03-02T09:00:00Z');
    const database = await benchDatabase('pglite', undefined);
    const store = await database.open();
    await migrateToLatest(store.db);
    const telegram = await startTelegramFake({ token: TOKEN, limitPerChatPerSecond: true, limitPerGroupPerMinute: true, now: () => clock.getTime() });
    try {
      const brandId = await insertBrand(store.db, 'Acme');
      const policy = basicTicketPolicy({ defaultTeam: 'support', channels: [{ id: 'tg', events: ['ticket.created', 'ticket.updated'] }] });
      const ids: string[] = [];
      for (let i = 0; i < opts.tickets; i++) {
        const id = await insertMention(store.db, { brandId, externalId: `f${i}`, sentiment: 'negative', text: `Complaint number ${i}`, firstSeenAt: clock });
        await inTransaction(store.db, (trx) => openTicketForMention(trx, id, { policy, now: clock }));
      }
      for (const t of await store.db.selectFrom('tickets').select('id').orderBy('id').execute()) ids.push(t.id);
      const config = telegramConfigSchema.parse({ id: 'tg', type: 'telegram', botToken: TOKEN, chatId: CHAT, apiUrl: telegram.url, updates: 'off' });
      const deps: DeliveryDeps = {
        db: store.db, now: () => clock, log: silentLogger,
        policy: { maxAttempts: 8, initialDelaySeconds: 1, maxDelaySeconds: 600, timeoutSeconds: 5 },
        destinationOf: () => ({ connector: connectorOf('telegram'), config }),
        sleep: async (ms) => void (clock = new Date(clock.getTime() + ms)),
        ...(paced ? { nextSlot: new Map<string, number>() } : {}),
      };
      const started = clock.getTime();
      const drain = async () => {
        for (let round = 0; round < 10_000; round++) {
          await handleDueDeliveries(deps);
          // On to the next retry that falls due (a row behind another of its ticket waits for that one).
          const next = await store.db.selectFrom('outbox').select('next_attempt_at').where('status', '=', 'pending')
            .where('next_attempt_at', '>', clock).orderBy('next_attempt_at').limit(1).executeTakeFirst();
          if (!next) return;
          clock = next.next_attempt_at;
        }
      };
      await drain();
      // Then half of the tickets are solved: each card is edited once, at the same pace.
      await inTransaction(store.db, (trx) =>
        changeTickets(trx, ids.filter((_, i) => i % 2 === 0).map((ticketId) => ({ ticketId, actor: 'agent', kind: 'update' as const, set: { status: 'solved' as const } })), { policy, now: clock }),
      );
      await drain();
      const chat = telegram.inChat(CHAT);
      const cards = new Map<string, number>();
      for (const m of chat) {
        const ticket = /Ticket: (\d+)/.exec(m.text)?.[1];
        if (ticket) cards.set(ticket, (cards.get(ticket) ?? 0) + 1);
      }
      const statuses = await store.db.selectFrom('outbox').select(['status', (eb) => eb.fn.countAll<string>().as('n')]).groupBy('status').execute();
      const calls = (method: string, status?: number) => telegram.requests.filter((r) => r.path.endsWith(method) && (status === undefined || r.status === status)).length;
      process.stdout.write(`${JSON.stringify({
        bench: 'crisis-telegram', paced, tickets: ids.length, cards: cards.size,
        lost: ids.filter((id) => !cards.has(id)).length, sent_twice: [...cards.values()].filter((n) => n > 1).length,
        edited: chat.filter((m) => m.versions.length === 2).length, edited_more_than_once: chat.filter((m) => m.versions.length > 2).length,
        send_calls: calls('sendMessage'), edit_calls: calls('editMessageText'), answered_429: telegram.requests.filter((r) => r.status === 429).length,
        outbox: Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)])),
        simulated_minutes: Math.round((clock.getTime() - started) / 600) / 100,
      })}\n`);
    } finally {
      await telegram.close();
      await store.close();
      await database.drop();
    }
  }
}
