import { describe, expect, it } from 'vitest';
import { BUSY_BRAND, generateMentionHistory, QUIET_BRAND, type Burst } from '../../tests/helpers/crisis-data.ts';
import { replayCrisis, replayLines, type ReplayIncident } from './replay.ts';

// The product's targets, on generated histories (tests/helpers/crisis-data.ts): weeks of ordinary talk with
// its rhythm, overdispersion and repost cascades, then a burst. Deterministic: fixed seeds, no clock.
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const START = Date.parse('2026-03-02T00:00:00Z');
// Day 21 of the history (three weeks of baseline), a Monday, 11:07 UTC (14:07 in the brands' time zone).
const BURST_AT = START + 21 * DAY + 11 * HOUR + 7 * MINUTE;

/** The incidents that were open at `from` or opened (or reopened) within the `hours` after it. */
function around(incidents: readonly ReplayIncident[], from: number, hours: number): ReplayIncident[] {
  const until = from + hours * HOUR;
  return incidents.filter(
    (i) => (i.openedAt < until && (i.resolvedAt === null || i.resolvedAt > from)) || i.reopenedAt.some((t) => t >= from && t < until),
  );
}

describe('replayCrisis on generated histories', () => {
  it('calls 40 negatives in 6 minutes on a brand with 3 mentions a minute critical within 3 minutes, as one incident', () => {
    const burst: Burst = { brand: 'busy', start: BURST_AT, minutes: 6, count: 40, authors: 30 };
    const { incidents } = replayCrisis(generateMentionHistory({ seed: 1, start: START, days: 23, brands: [BUSY_BRAND], bursts: [burst] }));
    const hit = around(incidents, BURST_AT - HOUR, 12);
    expect(hit).toHaveLength(1);
    const [incident] = hit;
    expect(incident!.openedAt).toBeGreaterThanOrEqual(BURST_AT);
    expect(incident!.severity).toBe('critical');
    expect(incident!.criticalAt! - BURST_AT).toBeLessThanOrEqual(3 * MINUTE);
    expect(incident!.why.rules).toContain('volume_z');
    expect(incident!.why.regime).toBe('high');
    expect(incident!.resolvedAt).not.toBeNull();
  });

  it('warns on 6 negatives from 5 authors within 2 hours on a brand with 2 negatives a day', () => {
    const burst: Burst = { brand: 'quiet', start: BURST_AT, minutes: 120, count: 6, authors: 5 };
    const { incidents } = replayCrisis(generateMentionHistory({ seed: 1, start: START, days: 23, brands: [QUIET_BRAND], bursts: [burst] }));
    const hit = around(incidents, BURST_AT - HOUR, 12);
    expect(hit).toHaveLength(1);
    expect(hit[0]).toMatchObject({ severity: 'warning', criticalAt: null });
    expect(hit[0]!.openedAt).toBeGreaterThan(BURST_AT);
    expect(hit[0]!.openedAt).toBeLessThanOrEqual(BURST_AT + 2 * HOUR);
    expect(hit[0]!.why).toMatchObject({ regime: 'low', rules: ['nb_tail'] });
    expect(hit[0]!.why.authors).toBeGreaterThanOrEqual(5);
  });

  it.each([1, 2])('raises at most 2 warnings per brand per week on a month of ordinary talk (seed %i)', (seed) => {
    const mentions = generateMentionHistory({ seed, start: START, days: 28, brands: [BUSY_BRAND, QUIET_BRAND] });
    const { incidents, summary } = replayCrisis(mentions);
    for (const brand of ['busy', 'quiet']) {
      const warnings = incidents.filter((i) => i.brand === brand && i.severity === 'warning').length;
      expect(warnings / 4).toBeLessThanOrEqual(2);
    }
    expect(summary.brands).toBe(2);
    expect(summary.weeks).toBeCloseTo(8, 0);
    expect(summary.warnings_per_week).toBeLessThanOrEqual(2);
  });

  it('reopens the same incident when a second burst comes within the cooldown', () => {
    const bursts: Burst[] = [
      { brand: 'busy', start: BURST_AT, minutes: 6, count: 40, authors: 30 },
      { brand: 'busy', start: BURST_AT + 3.5 * HOUR, minutes: 6, count: 40, authors: 30 },
    ];
    const { incidents } = replayCrisis(generateMentionHistory({ seed: 1, start: START, days: 23, brands: [BUSY_BRAND], bursts }));
    const hit = around(incidents, BURST_AT - HOUR, 12);
    expect(hit).toHaveLength(1);
    expect(hit[0]!.reopenedAt).toHaveLength(1);
    expect(hit[0]!.reopenedAt[0]! - (BURST_AT + 3.5 * HOUR)).toBeLessThanOrEqual(3 * MINUTE);
  });
});

describe('replayLines', () => {
  it('prints one JSON line per incident with ISO times, then the summary', () => {
    const burst: Burst = { brand: 'quiet', start: BURST_AT, minutes: 120, count: 6, authors: 5 };
    const result = replayCrisis(generateMentionHistory({ seed: 1, start: START, days: 23, brands: [QUIET_BRAND], bursts: [burst] }));
    const lines = replayLines(result).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(result.incidents.length + 1);
    const incident = lines.find((l) => l.opened_at !== undefined && Date.parse(l.opened_at as string) > BURST_AT)!;
    expect(Object.keys(incident)).toEqual(['brand', 'scope', 'severity', 'opened_at', 'escalated_at', 'resolved_at', 'why', 'critical_at', 'reopened_at']);
    expect(incident).toMatchObject({ brand: 'quiet', scope: 'all', severity: 'warning', escalated_at: null, critical_at: null, reopened_at: [] });
    expect(incident.opened_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    expect(lines.at(-1)).toEqual(result.summary);
    expect(Object.keys(lines.at(-1)!)).toEqual(['incidents', 'warnings_per_week', 'criticals_per_week', 'brands', 'weeks']);
  });

  it('gives a summary without incidents, and no rate when there is no week to divide by', () => {
    const one = replayCrisis([{ brand: 'x', at: START, sentiment: 'negative', author: null, reach: null, story: null }]);
    expect(one).toEqual({ incidents: [], summary: { incidents: 0, warnings_per_week: null, criticals_per_week: null, brands: 1, weeks: 0 } });
    expect(replayCrisis([]).summary).toEqual({ incidents: 0, warnings_per_week: null, criticals_per_week: null, brands: 0, weeks: 0 });
  });

  it('counts warnings per brand-week: 4 weeks of one brand', () => {
    const mentions = generateMentionHistory({ seed: 3, start: START, days: 28, brands: [QUIET_BRAND] });
    const { summary } = replayCrisis(mentions);
    expect(summary.weeks).toBeCloseTo((mentions.at(-1)!.at - mentions[0]!.at) / WEEK, 2);
  });
});
