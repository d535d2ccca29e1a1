import { sql, type Kysely, type Migration } from 'kysely';

// Issue 11: a new mention is written once, with its cluster already known. The mention and the cluster it
// founds point at each other, so the mention's reference is checked at commit, when both rows are there.
export const ingest: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE mentions ALTER CONSTRAINT mentions_cluster_id_fkey DEFERRABLE INITIALLY DEFERRED;
    `.execute(db);
  },
};
