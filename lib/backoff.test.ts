import { describe, expect, it } from 'vitest';
import { backoffWithJitterMs, parseRetryAfter } from './backoff.ts';

const START = Date.parse('2025-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates relative to the injected clock', () => {
    expect(parseRetryAfter('120', START)).toBe(120_000);
    expect(parseRetryAfter(new Date(START + 7_000).toUTCString(), START)).toBe(7_000);
    expect(parseRetryAfter(new Date(START - 7_000).toUTCString(), START)).toBe(0);
    expect(parseRetryAfter('soon', START)).toBeNull();
    expect(parseRetryAfter(undefined, START)).toBeNull();
  });

  it('reads the first of repeated headers and refuses an empty one', () => {
    expect(parseRetryAfter(['5', '60'], START)).toBe(5_000);
    expect(parseRetryAfter('', START)).toBeNull();
  });
});

describe('backoffWithJitterMs', () => {
  it('doubles per retry between half and all of the step, up to the cap', () => {
    expect(backoffWithJitterMs(0, 1_000, 60_000, () => 0)).toBe(500);
    expect(backoffWithJitterMs(0, 1_000, 60_000, () => 0.999999)).toBe(1_000);
    expect(backoffWithJitterMs(3, 1_000, 60_000, () => 0)).toBe(4_000);
    expect(backoffWithJitterMs(10, 1_000, 60_000, () => 0)).toBe(30_000);
  });
});
