import { sql, type Kysely, type Migration } from 'kysely';

// Issue 12: a delivery whose destination left the config is parked, not dead: it goes out when the
// destination is configured again. Parked rows are looked at again now and then, so they stay in the due index.
export const parkedDeliveries: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
      ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'delivered', 'dead', 'parked'));
      DROP INDEX outbox_due_idx;
      CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('pending', 'parked');
    `.execute(db);
  },
};
