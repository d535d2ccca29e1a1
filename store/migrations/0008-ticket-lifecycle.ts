import { sql, type Kysely, type Migration } from 'kysely';

// Issue 12: tickets that live. A ticket gets the whole helpdesk status set, an assignee, a version for
// If-Match, the helpdesks and channels its routing rule chose, and SLA clocks fixed when it opens. Every
// change is a history row. A helpdesk's own id for our ticket is kept per helpdesk, PATCH answers are kept
// for their Idempotency-Key, and an outbox row remembers how often it was claimed (a claim whose outcome
// was never recorded means the destination may have it already).
export const ticketLifecycle: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
      ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
        CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed', 'spam', 'ignored'));
      ALTER TABLE tickets ADD CONSTRAINT tickets_priority_check CHECK (priority IN ('low', 'normal', 'high', 'urgent'));
      ALTER TABLE tickets
        ADD COLUMN version integer NOT NULL DEFAULT 1,
        ADD COLUMN assignee text,
        ADD COLUMN status_reason text,
        ADD COLUMN routed_by text,
        ADD COLUMN helpdesks text[],
        ADD COLUMN channels text[],
        ADD COLUMN first_response_at timestamptz,
        ADD COLUMN solved_at timestamptz,
        ADD COLUMN first_response_due_at timestamptz,
        ADD COLUMN resolution_due_at timestamptz,
        ADD COLUMN first_response_warn_at timestamptz,
        ADD COLUMN resolution_warn_at timestamptz,
        ADD COLUMN sla_paused_at timestamptz,
        ADD COLUMN sla_warned text[] NOT NULL DEFAULT '{}',
        ADD COLUMN sla_breached text[] NOT NULL DEFAULT '{}';

      DROP INDEX tickets_open_cluster_idx;
      CREATE UNIQUE INDEX tickets_open_cluster_idx ON tickets (cluster_id)
        WHERE cluster_id IS NOT NULL AND status IN ('new', 'open', 'pending', 'on_hold');
      -- The SLA sweep: open tickets whose next warning or deadline is due.
      CREATE INDEX tickets_sla_idx ON tickets (LEAST(first_response_warn_at, resolution_warn_at))
        WHERE status IN ('new', 'open', 'on_hold');

      CREATE TABLE ticket_history (
        id bigserial PRIMARY KEY,
        ticket_id bigint NOT NULL REFERENCES tickets(id),
        seq bigint NOT NULL,
        version integer NOT NULL,
        kind text NOT NULL,
        actor text NOT NULL,
        changes jsonb NOT NULL,
        note text,
        at timestamptz NOT NULL
      );
      CREATE INDEX ticket_history_ticket_idx ON ticket_history (ticket_id, id);

      CREATE TABLE ticket_links (
        ticket_id bigint NOT NULL REFERENCES tickets(id),
        helpdesk_id text NOT NULL,
        external_id text NOT NULL,
        external_status text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (ticket_id, helpdesk_id),
        UNIQUE (helpdesk_id, external_id)
      );

      CREATE TABLE idempotency_keys (
        api_key_id integer NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status integer NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (api_key_id, key)
      );

      ALTER TABLE outbox ADD COLUMN claims integer NOT NULL DEFAULT 0;
      -- Rows of one ticket for one destination go out in order: the create before its updates.
      CREATE INDEX outbox_ticket_destination_idx ON outbox (ticket_id, destination_kind, destination_id, id)
        WHERE status IN ('pending', 'parked');
    `.execute(db);
  },
};
