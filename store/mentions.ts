import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Db } from './connect.ts';
import type { MentionTable, NewMention } from './schema.ts';

export interface StoredMentionRow {
  id: string;
  source: string;
  external_id: string;
  /** Null for a mention this call inserted: clusters are assigned after the insert. */
  cluster_id: string | null;
  inserted: boolean;
  actionable: boolean;
}

/**
 * Inserts new mentions and updates those whose content changed, keeping their id; unchanged rows are
 * left alone and not returned, so `rows.length - returned` is the number of exact duplicates.
 * Rows must be unique by (source, external_id) within one call.
 * A person's correction outranks the crawl: corrected sentiment or actionable columns keep their values.
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
          sentiment: unlessCorrected('sentiment_corrected', 'sentiment'),
          sentiment_score: unlessCorrected('sentiment_corrected', 'sentiment_score'),
          sentiment_model: unlessCorrected('sentiment_corrected', 'sentiment_model'),
          sentiment_confidence: unlessCorrected('sentiment_corrected', 'sentiment_confidence'),
          sentiment_reason: unlessCorrected('sentiment_corrected', 'sentiment_reason'),
          actionable: unlessCorrected('actionable_corrected', 'actionable'),
          action_reasons: unlessCorrected('actionable_corrected', 'action_reasons'),
          metrics: eb.ref('excluded.metrics'),
          reply: eb.ref('excluded.reply'),
          details: eb.ref('excluded.details'),
        }))
        .where('mentions.content_hash', 'is distinct from', (eb) => eb.ref('excluded.content_hash')),
    )
    // xmax = 0 only on a freshly inserted row version: it tells an insert from an update.
    .returning(['id', 'source', 'external_id', 'cluster_id', 'actionable', sql<boolean>`(xmax = 0)`.as('inserted')])
    .execute();
}

type Corrected = 'sentiment_corrected' | 'actionable_corrected';

/** The stored value when a person corrected it, else the crawl's (`excluded`) value. */
function unlessCorrected<C extends keyof MentionTable & string>(flag: Corrected, column: C): RawBuilder<Selectable<MentionTable>[C]> {
  return sql<Selectable<MentionTable>[C]>`CASE WHEN ${sql.ref(`mentions.${flag}`)} THEN ${sql.ref(`mentions.${column}`)} ELSE ${sql.ref(`excluded.${column}`)} END`;
}

/** Links stored mentions, by (source, external id), to the brands they name; a link already there is kept. */
export async function linkMentionBrands(db: Db, links: readonly { source: string; externalId: string; brandId: number }[]): Promise<void> {
  if (links.length === 0) return;
  await sql`
    INSERT INTO mention_brands (brand_id, mention_id)
    SELECT v.brand_id, m.id
    FROM unnest(${links.map((l) => l.source)}::text[], ${links.map((l) => l.externalId)}::text[], ${links.map((l) => l.brandId)}::int[])
      AS v(source, external_id, brand_id)
    JOIN mentions m ON m.source = v.source AND m.external_id = v.external_id
    ON CONFLICT DO NOTHING
  `.execute(db);
}
