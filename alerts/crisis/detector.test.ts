import { describe, expect, it } from 'vitest';
import { buildCrisisBaseline, DEFAULT_CRISIS_PARAMS, detectCrisis, nbUpperTail, type DetectorInput, type HourBucket, type NegativePoint } from './detector.ts';

// Synthetic histories as regular as a clock, so every number the detector reports can be checked by hand:
// with no noise in the history its k is the cap (Poisson) and σ is sqrt(μ).
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-03-30T12:30:00Z');
const HOUR_START = NOW - 30 * MINUTE;

/** Complete hours from `days` days before the current hour up to it, each as `perHour` says. */
function hoursOf(days: number, perHour: (start: number) => { negative: number; all: number; reach?: number }): HourBucket[] {
  const out: HourBucket[] = [];
  for (let h = HOUR_START - days * DAY; h < HOUR_START; h += HOUR) {
    const { negative, all, reach } = perHour(h);
    out.push({ start: h, negative, all, reach: reach ?? negative * 100 });
  }
  return out;
}

/** `count` negatives evenly spread over (from, to], each by its own author unless told. */
function spread(from: number, to: number, count: number, over: Partial<NegativePoint> & { authorPrefix?: string } = {}): NegativePoint[] {
  const { authorPrefix = `a${from}`, ...rest } = over;
  return Array.from({ length: count }, (_, i) => ({
    at: Math.round(to - ((to - from) * i) / count), author: `${authorPrefix}-${i}`, story: null, reach: 100, ...rest,
  }));
}

function input(over: Partial<DetectorInput> & Pick<DetectorInput, 'hours' | 'negatives'>): DetectorInput {
  return { now: NOW, historyStart: NOW - 28 * DAY - HOUR, all60: 0, all15: 0, excluded: [], ...over };
}

// A busy brand: 25 negatives of 180 mentions an hour, every hour (600 negatives a day: the high regime).
const busyHours = hoursOf(28, () => ({ negative: 25, all: 180 }));
// Every 2.4 minutes, the newest a minute ago: one of them in the last 3 minutes.
const busyDay = (to = NOW - MINUTE) => spread(to - DAY, to, 600, { authorPrefix: 'usual' });

// A quiet brand: one negative at 10:00 and one at 16:00 UTC, every day (2 a day: the low regime).
const quietHours = hoursOf(28, (h) => {
  const hour = new Date(h).getUTCHours();
  return { negative: hour === 10 || hour === 16 ? 1 : 0, all: 6 };
});
const quietDay = [NOW - 20.5 * HOUR, NOW - 2.5 * HOUR].map((at, i) => ({ at, author: `usual-${i}`, story: null, reach: 50 }));

describe('nbUpperTail', () => {
  it('is the geometric tail at k = 1 and the Poisson tail for a large k', () => {
    expect(nbUpperTail(4, 2, 1)).toBeCloseTo((2 / 3) ** 4, 12);
    expect(nbUpperTail(3, 1, 1e7)).toBeCloseTo(1 - Math.exp(-1) * 2.5, 6);
    expect(nbUpperTail(0, 5, 3)).toBe(1);
    // Deep in the tail it keeps its precision (summed upward, not 1 − the body).
    expect(nbUpperTail(40, 1, 1e7)).toBeGreaterThan(0);
    expect(nbUpperTail(40, 1, 1e7)).toBeLessThan(1e-40);
  });
});

describe('detectCrisis, high-volume regime', () => {
  it('stays calm on an ordinary minute, and still explains the strongest window', () => {
    const d = detectCrisis(input({ hours: busyHours, negatives: busyDay(), all60: 180, all15: 45 }));
    expect(d).toMatchObject({ severity: null, rules: [], calm: true });
    expect(d.why.regime).toBe('high');
    expect(d.why.summary).toMatch(/^negative in (15 min|1 h): \d+ vs \d+(\.\d)? expected \(z=-?\d+\.\d, ×\d+\.\d\)$/);
    expect(d.window.to).toBe(NOW);
    expect(d.window.to - d.window.from).toBe(d.why.window_minutes * MINUTE);
  });

  it('calls 20 negatives from 20 authors in the last 3 minutes critical at once', () => {
    const negatives = [...busyDay(), ...spread(NOW - 3 * MINUTE, NOW, 20, { authorPrefix: 'angry' })];
    const d = detectCrisis(input({ hours: busyHours, negatives, all60: 200, all15: 65 }));
    expect(d.severity).toBe('critical');
    expect(d.rules).toEqual(['volume_z']);
    expect(d.calm).toBe(false);
    // 21 in 3 min against 1.25 expected: z = 19.75 / sqrt(1.25).
    expect(d.why).toMatchObject({ regime: 'high', window_minutes: 3, observed: 21, expected: 1.25, p_value: null, authors: 21 });
    expect(d.why.z).toBeCloseTo(19.75 / Math.sqrt(1.25), 1);
    expect(d.why.summary).toBe('negative in 3 min: 21 vs 1.3 expected (z=17.7, ×16.8)');
  });

  it('counts at most three copies of one story toward volume', () => {
    const copies = spread(NOW - 3 * MINUTE, NOW, 20, { authorPrefix: 'reposter', story: 'one-post' });
    const d = detectCrisis(input({ hours: busyHours, negatives: [...busyDay(), ...copies], all60: 200, all15: 65 }));
    expect(d.severity).toBeNull();
  });

  it('reads the partial current hour from the negatives, never from an hour bucket', () => {
    const negatives = busyDay();
    const plain = detectCrisis(input({ hours: busyHours, negatives, all60: 180, all15: 45 }));
    const withCurrent = detectCrisis(input({ hours: [...busyHours, { start: HOUR_START, negative: 5000, all: 9000, reach: 0 }], negatives, all60: 180, all15: 45 }));
    expect(withCurrent).toEqual(plain);
  });

  it('warns on a jump of the negative share, the Wilson bound above the usual share + 10 points', () => {
    // Negatives as usual (100 an hour), but the rest of the talk fell from 600 to 200: 300 mentions in all.
    const hours = hoursOf(28, () => ({ negative: 100, all: 700 }));
    const negatives = spread(NOW - DAY, NOW, 2400, { authorPrefix: 'usual' });
    const d = detectCrisis(input({ hours, negatives, all60: 300, all15: 75 }));
    expect(d.severity).toBe('warning');
    expect(d.rules).toEqual(['share_jump']);
    expect(d.why.summary).toContain('negative share in 1 h: 33% (at least 28%) vs 14% usual, of 300 mentions');
    // Under 200 mentions in the hour the share is not tested.
    expect(detectCrisis(input({ hours, negatives, all60: 150, all15: 40 })).severity).toBeNull();
  });

  it('warns on a slow build-up the windows miss: the CUSUM of the hours', () => {
    // The last six complete hours at 45 instead of 25 (z 4, clipped at 2.5), the current hour too: the
    // 60-min window against the level that rose with them is only z ≈ 2.
    const hours = busyHours.map((h) => (h.start >= HOUR_START - 6 * HOUR ? { ...h, negative: 45 } : h));
    const negatives = [...spread(NOW - DAY, HOUR_START - 6 * HOUR, 450, { authorPrefix: 'usual' }), ...spread(HOUR_START - 6 * HOUR, NOW, 292, { authorPrefix: 'more' })];
    const d = detectCrisis(input({ hours, negatives, all60: 190, all15: 50 }));
    expect(d.severity).toBe('warning');
    expect(d.rules).toEqual(['cusum']);
    expect(d.why.summary).toMatch(/negatives above usual for 6 h, \d+ more than expected \(CUSUM \d+\.\d\)$/);
  });

  it('leaves excluded spans (past incidents) out of the baseline', () => {
    const spike = busyHours.map((h) => (new Date(h.start).getUTCHours() === 12 ? { ...h, negative: 250 } : h));
    const excluded = spike.filter((h) => h.negative === 250).map((h) => ({ from: h.start, to: h.start + HOUR }));
    const noon = (Math.floor(NOW / HOUR) % 168);
    const raised = buildCrisisBaseline(input({ hours: spike, negatives: [] }));
    const left = buildCrisisBaseline(input({ hours: spike, negatives: [], excluded }));
    expect(raised.negative[noon]).toBeGreaterThan(100);
    expect(left.negative[noon]).toBeCloseTo(25, 0);
  });
});

describe('detectCrisis, low-volume regime', () => {
  const burst = (over: Partial<NegativePoint> & { authorPrefix?: string } = {}) => spread(NOW - 2 * HOUR, NOW, 6, over);

  it('warns on 6 negatives from 5 authors within 2 hours on a brand with 2 a day', () => {
    const six = burst().map((p, i) => ({ ...p, author: `author-${i % 5}` }));
    const d = detectCrisis(input({ hours: quietHours, negatives: [...quietDay, ...six], all60: 4, all15: 1 }));
    expect(d.severity).toBe('warning');
    expect(d.rules).toEqual(['nb_tail']);
    // The 3-h window also holds the day's usual 10:00 negative.
    expect(d.why).toMatchObject({ regime: 'low', window_minutes: 180, observed: 7, authors: 6, z: null });
    expect(d.why.p_value).toBeLessThan(1e-3);
    expect(d.why.summary).toMatch(/^negative in 3 h: 7 vs 0\.\d expected \(p=\de-\d\), 6 authors$/);
  });

  it('does not count one author, or copies of one story, as a crowd', () => {
    const oneAuthor = burst().map((p) => ({ ...p, author: 'same-person' }));
    expect(detectCrisis(input({ hours: quietHours, negatives: [...quietDay, ...oneAuthor] })).severity).toBeNull();
    const oneStory = burst({ story: 'one-post' });
    expect(detectCrisis(input({ hours: quietHours, negatives: [...quietDay, ...oneStory] })).severity).toBeNull();
  });

  it('calls it critical at p < 1e-5 with 10 or more', () => {
    const d = detectCrisis(input({ hours: quietHours, negatives: [...quietDay, ...spread(NOW - 2 * HOUR, NOW, 12)] }));
    expect(d.severity).toBe('critical');
    expect(d.why.p_value).toBeLessThan(1e-5);
  });

  it('is calm once every window is back above p = 0.05', () => {
    const d = detectCrisis(input({ hours: quietHours, negatives: quietDay }));
    expect(d).toMatchObject({ severity: null, calm: true });
  });
});

describe('detectCrisis, high-reach posts (any regime)', () => {
  const post = (reach: number, at = NOW - 10 * MINUTE, story: string | null = null): NegativePoint => ({ at, author: '@bignews', story, reach });

  it('warns on one negative post with 100k+ reach in the last hour', () => {
    const d = detectCrisis(input({ hours: quietHours, negatives: [...quietDay, post(150_000)] }));
    expect(d.severity).toBe('warning');
    expect(d.rules).toEqual(['high_reach']);
    expect(d.why.summary).toMatch(/^negative post with reach 150k by @bignews; negative in 1 h: 1 vs/);
    expect(d.window).toEqual({ from: NOW - HOUR, to: NOW });
  });

  it('calls 1M+ critical, and a second 100k+ story within 24 h', () => {
    expect(detectCrisis(input({ hours: quietHours, negatives: [...quietDay, post(1_200_000)] })).severity).toBe('critical');
    const two = detectCrisis(input({ hours: quietHours, negatives: [...quietDay, post(300_000, NOW - 20 * HOUR, 's1'), post(150_000, NOW - 5 * MINUTE, 's2')] }));
    expect(two.severity).toBe('critical');
    expect(two.why.summary).toContain('2 negative posts with reach ≥ 100k in 24 h, the latest 150k by @bignews');
    // Two copies of one story are one post.
    const copies = detectCrisis(input({ hours: quietHours, negatives: [...quietDay, post(300_000, NOW - 20 * HOUR, 's1'), post(150_000, NOW - 5 * MINUTE, 's1')] }));
    expect(copies.severity).toBe('warning');
  });

  it('fuses two different kinds of warning into a critical', () => {
    const hours = hoursOf(28, () => ({ negative: 100, all: 700 }));
    const negatives = [...spread(NOW - DAY, NOW, 2400, { authorPrefix: 'usual' }), post(150_000)];
    const d = detectCrisis(input({ hours, negatives, all60: 300, all15: 75 }));
    expect(d.severity).toBe('critical');
    expect(d.rules).toEqual(['share_jump', 'high_reach']);
  });
});

describe('detectCrisis, under 3 days of history', () => {
  const young = (days: number) => ({ historyStart: NOW - days * DAY, hours: hoursOf(days, () => ({ negative: 10, all: 70 })).filter((h) => h.start >= NOW - days * DAY) });

  it('uses absolute thresholds: 3× the busiest hour so far from 5+ authors warns, 5× from 10+ is critical', () => {
    const usual = spread(NOW - DAY, NOW - HOUR, 230, { authorPrefix: 'usual' });
    const warn = detectCrisis(input({ ...young(2), negatives: [...usual, ...spread(NOW - HOUR, NOW, 35)] }));
    expect(warn.severity).toBe('warning');
    expect(warn.rules).toEqual(['absolute']);
    expect(warn.why.regime).toBe('absolute');
    expect(warn.why.summary).toBe('negative in 1 h: 35 from 35 authors, ×3.5 the busiest hour so far (under 3 days of history: no baseline yet)');
    expect(detectCrisis(input({ ...young(2), negatives: [...usual, ...spread(NOW - HOUR, NOW, 60)] })).severity).toBe('critical');
    expect(detectCrisis(input({ ...young(2), negatives: [...usual, ...spread(NOW - HOUR, NOW, 25)] })).severity).toBeNull();
  });

  it('says nothing before a whole day has been seen, except for a high-reach post', () => {
    expect(detectCrisis(input({ ...young(0.8), negatives: spread(NOW - HOUR, NOW, 60) })).severity).toBeNull();
    const big = { at: NOW - MINUTE, author: null, story: null, reach: 500_000 };
    expect(detectCrisis(input({ ...young(0.8), negatives: [big] })).severity).toBe('warning');
  });
});

describe('DEFAULT_CRISIS_PARAMS', () => {
  it('keeps §4.4 numbers where it does not say otherwise', () => {
    expect(DEFAULT_CRISIS_PARAMS).toMatchObject({
      lowVolumePerDay: 50, historyDays: 28, lowP: 1e-3, lowMinCount: 5, lowMinAuthors: 3, lowMinLift: 3, criticalP: 1e-5, criticalMinCount: 10,
      highZWarning: 4, highZCritical: 6, highMinLift: 1.5, highCriticalLift: 3, sustainedZ: 3, cusumK: 0.5, cusumH: 5, reachZ: 5,
      highReach: 100_000, criticalReach: 1_000_000, calmZ: 1.5, calmP: 0.05, kMin: 1, kMax: 1000,
    });
    expect(Object.isFrozen(DEFAULT_CRISIS_PARAMS)).toBe(true);
  });
});
