import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { crawlers } from '../crawlers/registry.ts';
import type { Store } from '../store/connect.ts';
import { listTargetHealth } from '../store/target-health.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { syncConfig } from './sync-config.ts';

const NOW = new Date('2026-11-30T08:00:00Z');
const config = (credentials: string) =>
  parseConfig(
    `brands: [{ name: Acme, keywords: [acme] }]
teams: [{ id: support, name: Support }, { id: almaty, name: Almaty franchise }]
routing: { defaultTeam: support }
targets:
  - { id: vk-search, source: vk, brand: Acme, params: { query: acme } }
  - { id: branch-almaty, source: 2gis, brand: Acme, team: almaty, expectedQuietDays: 60, params: { branchId: "70000001033566614", city: almaty } }
  - { id: reddit, source: reddit, brand: Acme, params: { query: acme } }
${credentials}`,
    { env: { VK_TOKEN: 'vk1.a.token' }, crawlers },
  );

describe('syncConfig', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores each target with its team and quiet period, and holds back one whose source lacks required credentials', async () => {
    const synced = await syncConfig(store.db, config(''), crawlers, NOW);
    // Reddit's credentials are optional (it falls back to the public RSS search); VK's are not.
    expect(synced.scheduled.map((t) => [t.id, t.team])).toEqual([
      ['branch-almaty', 'almaty'],
      ['reddit', null],
    ]);
    expect(synced.waiting).toEqual([{ id: 'vk-search', reason: expect.stringMatching(/^MissingCredentialsError: set credentials\.vk\.accessToken/) }]);
    const health = await listTargetHealth(store.db, { now: NOW });
    expect(health.map((t) => [t.id, t.state, t.team, t.expectedQuietDays])).toEqual([
      ['branch-almaty', 'ok', 'almaty', 60],
      ['reddit', 'ok', null, 14],
      ['vk-search', 'disabled', null, 7],
    ]);
    expect(health.find((t) => t.id === 'vk-search')?.lastError).toBe(synced.waiting[0]?.reason);
  });

  it('schedules the held-back target once its credentials are configured', async () => {
    const synced = await syncConfig(store.db, config('credentials: { vk: { accessToken: "${VK_TOKEN}" } }'), crawlers, NOW);
    expect(synced.waiting).toEqual([]);
    expect(synced.scheduled.map((t) => t.id)).toContain('vk-search');
    // It waited until now: the scheduler crawls it at once rather than at its next tick.
    expect(synced.resumed).toEqual(['vk-search']);
    const [vk] = (await listTargetHealth(store.db, { now: NOW })).filter((t) => t.id === 'vk-search');
    expect(vk?.state).toBe('ok');
  });
});
