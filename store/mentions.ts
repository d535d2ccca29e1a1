import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { NewMention } from './schema.ts';

export interface StoredMentionRow {
  id: string;
  external_id: string;
  inserted: boolean;
  actionable: boolean;
}

/**
 * Inserts new mentions and updates those whose content changed, keeping their id; unchanged rows are
 * left alone and not returned, so `rows.length - returned` is the number of exact duplicates.
 * Rows must be unique by (source, external_id) within one call.
 */
export async function upsertMentions(db: Db, rows: NewMention[]): Promise<StoredMentionRow[]> {
  if (rows.length === 0) return [];
  return db
    .insertInto('mentions')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['source', 'external_id'])
        .doUpdateSet((eb) => ({
          url: eb.ref('excluded.url'),
          author: eb.ref('excluded.author'),
          title: eb.ref('excluded.title'),
          text: eb.ref('excluded.text'),
          content_hash: eb.ref('excluded.content_hash'),
          rating: eb.ref('excluded.rating'),
          published_at: eb.ref('excluded.published_at'),
          updated_at: eb.ref('excluded.updated_at'),
          lang: eb.ref('excluded.lang'),
          sentiment: eb.ref('excluded.sentiment'),
          sentiment_score: eb.ref('excluded.sentiment_score'),
          sentiment_model: eb.ref('excluded.sentiment_model'),
          actionable: eb.ref('excluded.actionable'),
          metrics: eb.ref('excluded.metrics'),
          reply: eb.ref('excluded.reply'),
          details: eb.ref('excluded.details'),
        }))
        .where('mentions.content_hash', 'is distinct from', (eb) => eb.ref('excluded.content_hash')),
    )
    // xmax = 0 only on a freshly inserted row version: it tells an insert from an update.
    .returning(['id', 'external_id', 'actionable', sql<boolean>`(xmax = 0)`.as('inserted')])
    .execute();
}
