import type { Db } from './connect.ts';

// A channel's card of a subject: the message (Telegram message_id, the email thread's root Message-ID) that
// later messages about the same ticket or incident edit or reply to.

export async function findChannelCard(db: Db, channelId: string, subject: string): Promise<string | null> {
  const row = await db
    .selectFrom('channel_cards')
    .select('card')
    .where('channel_id', '=', channelId)
    .where('subject', '=', subject)
    .executeTakeFirst();
  return row?.card ?? null;
}

/** Keeps the subject's card: a new one replaces the old (an edit that found its message gone sent a new one). */
export async function saveChannelCard(db: Db, card: { channelId: string; subject: string; card: string }, at: Date): Promise<void> {
  await db
    .insertInto('channel_cards')
    .values({ channel_id: card.channelId, subject: card.subject, card: card.card, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['channel_id', 'subject']).doUpdateSet({ card: card.card, updated_at: at }))
    .execute();
}

/** Forgets a card so the next message starts a new one (a reminder that must ping). */
export async function dropChannelCard(db: Db, channelId: string, subject: string): Promise<void> {
  await db.deleteFrom('channel_cards').where('channel_id', '=', channelId).where('subject', '=', subject).execute();
}
