import { sql, type Kysely, type Migration } from 'kysely';

// Issue 13: crisis incidents per brand and scope, tickets linked to the incident they belong to, one card per
// subject (a ticket or an incident) and channel so later messages edit it, and outbox rows that name their
// subject: the rows of one subject for one destination go out in order, whatever the subject is.
export const incidents: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE incidents (
        id bigserial PRIMARY KEY,
        brand_id integer NOT NULL REFERENCES brands(id),
        scope text NOT NULL DEFAULT 'all',
        status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        severity text NOT NULL CHECK (severity IN ('warning', 'critical')),
        opened_at timestamptz NOT NULL,
        escalated_at timestamptz,
        escalation_reason text,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at timestamptz,
        resolved_by text,
        resolution_note text,
        -- The detector's lifecycle state, as alerts/crisis/lifecycle.ts keeps it.
        state jsonb NOT NULL,
        -- Terms, sources, languages and top posts, from the mentions behind the strongest evidence.
        explanation jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      );
      -- One live incident per brand and scope: two workers evaluating at once cannot open two.
      CREATE UNIQUE INDEX incidents_live_idx ON incidents (brand_id, scope) WHERE status <> 'resolved';
      CREATE INDEX incidents_brand_idx ON incidents (brand_id, scope, opened_at DESC);
      CREATE INDEX incidents_opened_idx ON incidents (opened_at DESC, id DESC);

      ALTER TABLE tickets ADD COLUMN incident_id bigint REFERENCES incidents(id);
      CREATE INDEX tickets_incident_idx ON tickets (incident_id) WHERE incident_id IS NOT NULL;

      ALTER TABLE alerts ADD COLUMN incident_id bigint REFERENCES incidents(id);
      -- Held until the end of the channel's quiet hours; counted in its digest.
      ALTER TABLE alerts ADD COLUMN held_until timestamptz;

      ALTER TABLE outbox ADD COLUMN subject text;
      UPDATE outbox SET subject = 'ticket:' || ticket_id WHERE ticket_id IS NOT NULL;
      DROP INDEX outbox_ticket_destination_idx;
      CREATE INDEX outbox_subject_destination_idx ON outbox (subject, destination_kind, destination_id, id)
        WHERE status IN ('pending', 'parked');
      CREATE INDEX outbox_subject_sent_idx ON outbox (subject, destination_id, created_at DESC) WHERE subject IS NOT NULL;
      ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
      -- suppressed: not sent on purpose (held back by an open incident, or a card refresh the channel cannot take).
      ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'delivered', 'dead', 'parked', 'suppressed'));

      CREATE TABLE channel_cards (
        channel_id text NOT NULL,
        subject text NOT NULL,
        card text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (channel_id, subject)
      );
    `.execute(db);
  },
};
