import type { ActionReason } from '../sentiment/types.ts';
import type { Db } from './connect.ts';
import type { SentimentLabel } from './schema.ts';

/** A stored mention with what ticket routing looks at, and the ticket it has now. */
export interface RoutingSampleMention {
  id: string;
  /** The brand it was first stored for: the one its ticket is for. */
  brand: string;
  source: string;
  targetId: string | null;
  /** The target's own team; null when the target has none (or the mention has no target). */
  targetTeam: string | null;
  lang: string;
  sentiment: SentimentLabel;
  actionReasons: ActionReason[];
  rating: number | null;
  title: string | null;
  text: string;
  actionable: boolean;
  firstSeenAt: Date;
  /** Its own ticket, else the ticket of its story that it joined as a copy; null when neither exists. */
  ticket: { id: string; team: string } | null;
}

/** Mentions first seen in [since, until], newest first, at most `limit`, for trying routing rules on. */
export async function listRoutingSample(db: Db, opts: { since: Date; until: Date; limit: number }): Promise<RoutingSampleMention[]> {
  const rows = await db
    .selectFrom('mentions as m')
    .innerJoin('brands as b', 'b.id', 'm.brand_id')
    .leftJoin('targets as t', 't.id', 'm.target_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('tickets as k')
          .select(['k.id', 'k.team'])
          .where((w) => w.or([w('k.mention_id', '=', w.ref('m.id')), w.and([w('m.cluster_id', 'is not', null), w('k.cluster_id', '=', w.ref('m.cluster_id'))])]))
          // Its own ticket first; of its story's, the newest.
          .orderBy((o) => o.case().when('k.mention_id', '=', o.ref('m.id')).then(0).else(1).end())
          .orderBy('k.created_at', 'desc')
          .limit(1)
          .as('ticket'),
      (join) => join.onTrue(),
    )
    .select([
      'm.id', 'b.name as brand', 'm.source', 'm.target_id', 't.team as target_team', 'm.lang', 'm.sentiment',
      'm.action_reasons', 'm.rating', 'm.title', 'm.text', 'm.actionable', 'm.first_seen_at',
      'ticket.id as ticket_id', 'ticket.team as ticket_team',
    ])
    .where('m.first_seen_at', '>=', opts.since)
    .where('m.first_seen_at', '<=', opts.until)
    .orderBy('m.first_seen_at', 'desc')
    .orderBy('m.id', 'desc')
    .limit(opts.limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    brand: row.brand,
    source: row.source,
    targetId: row.target_id,
    targetTeam: row.target_team ?? null,
    lang: row.lang,
    sentiment: row.sentiment,
    actionReasons: row.action_reasons,
    rating: row.rating,
    title: row.title,
    text: row.text,
    actionable: row.actionable,
    firstSeenAt: new Date(row.first_seen_at),
    ticket: row.ticket_id === null || row.ticket_team === null ? null : { id: row.ticket_id, team: row.ticket_team },
  }));
}
