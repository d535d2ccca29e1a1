import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../tests/helpers/test-store.ts';
import type { Store } from './connect.ts';
import { reserveHostSlot } from './host-slots.ts';

describe('request slots shared through the database', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(() => store.close());

  it('hands out one slot per interval, whoever asks, and keeps accounts apart', async () => {
    // An hour apart, so however slowly the three calls follow each other, the slots tell apart.
    const interval = 3_600_000;
    const slack = 600_000;
    const waits = [];
    for (let i = 0; i < 3; i++) waits.push(await reserveHostSlot(store.db, 'vk:api.vk.com', interval));
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBeGreaterThan(interval - slack);
    expect(waits[1]).toBeLessThanOrEqual(interval);
    expect(waits[2]).toBeGreaterThan(2 * interval - slack);
    expect(waits[2]).toBeLessThanOrEqual(2 * interval);
    expect(await reserveHostSlot(store.db, 'vk:other.example', interval)).toBe(0);
  });
});
