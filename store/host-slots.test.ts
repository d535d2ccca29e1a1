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
    // A minute apart, so the milliseconds between the calls do not matter.
    const interval = 60_000;
    const waits = [];
    for (let i = 0; i < 3; i++) waits.push(await reserveHostSlot(store.db, 'vk:api.vk.com', interval));
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBeGreaterThan(interval - 5_000);
    expect(waits[1]).toBeLessThanOrEqual(interval);
    expect(waits[2]).toBeGreaterThan(2 * interval - 5_000);
    expect(waits[2]).toBeLessThanOrEqual(2 * interval);
    expect(await reserveHostSlot(store.db, 'vk:other.example', interval)).toBe(0);
  });
});
