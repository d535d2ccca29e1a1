import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRepostSet } from '../bench/dedupe-set.ts';
import { commandCluster } from '../bin/commands/cluster.ts';
import type { MentionDraft } from '../crawlers/types.ts';
import { ingestPage } from '../pipeline/ingest.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { createTestStore } from './helpers/test-store.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

const output = captureOutput();

// The bench's evaluation set: real fixture texts, their reposts, and stories that share a sentence.
const items = generateRepostSet({ seed: 1 });

describe('one clustering rule: earshot cluster and a crawl give the same stories', () => {
  let store: Store;
  const scratch = mkdtempSync(join(tmpdir(), 'earshot-parity-'));
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('on the bench set, every item lands in the story of the same first member', async () => {
    const file = join(scratch, 'set.jsonl');
    writeFileSync(file, items.map(({ id, text }) => JSON.stringify({ id, text })).join('\n'));
    expect(commandCluster([file], testCommandContext())).toBe(0);
    const offline = new Map(output.stdout.trim().split('\n').map((line) => {
      const { id, cluster } = JSON.parse(line) as { id: string; cluster: string };
      return [id, cluster];
    }));

    // The crawl's path: pages of 50 through ingestPage, candidates from the store and from the page itself.
    const now = () => new Date('2026-12-01T10:00:00Z');
    const brand = await upsertBrand(store.db, { name: 'Bench', keywords: ['bench'] }, now());
    const drafts = items.map((item): MentionDraft => ({
      source: 'vk', externalId: item.id, url: null, author: { name: 'someone' }, title: null, text: item.text, rating: null,
      publishedAt: null, lang: null, metrics: {}, reply: null, parentExternalId: null,
    }));
    const deps = { db: store.db, now, policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }) };
    for (let i = 0; i < drafts.length; i += 50) {
      await ingestPage(deps, drafts.slice(i, i + 50), { brands: [{ brand, matcher: null }], targetId: null });
    }
    const rows = await store.db
      .selectFrom('mentions as m')
      .innerJoin('clusters as c', 'c.id', 'm.cluster_id')
      .innerJoin('mentions as first', 'first.id', 'c.representative_id')
      .select(['m.external_id as id', 'first.external_id as cluster'])
      .execute();
    const crawled = new Map(rows.map((r) => [r.id, r.cluster]));

    expect(crawled.size).toBe(items.length);
    expect(crawled).toEqual(offline);
    // Not a trivial partition: most stories have copies, and many items stand alone.
    const sizes = new Map<string, number>();
    for (const cluster of offline.values()) sizes.set(cluster, (sizes.get(cluster) ?? 0) + 1);
    expect([...sizes.values()].filter((n) => n > 1).length).toBeGreaterThan(300);
    expect([...sizes.values()].filter((n) => n === 1).length).toBeGreaterThan(300);
  });
});
