import { describe, expect, it } from 'vitest';
import type { IncidentWhy } from '../../documents/incident.ts';
import type { Detection } from './detector.ts';
import { acknowledgeIncident, DEFAULT_LIFECYCLE_PARAMS, resolveIncident, stepIncident, type IncidentState } from './lifecycle.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-30T12:00:00Z');
const at = (minutes: number) => T0 + minutes * MINUTE;

function detection(severity: Detection['severity'], over: { calm?: boolean; observed?: number; expected?: number; regime?: IncidentWhy['regime'] } = {}): Detection {
  const observed = over.observed ?? (severity ? 30 : 5);
  const why: IncidentWhy = {
    summary: `negative in 15 min: ${observed} vs 6 expected`, rules: severity ? ['volume_z'] : [], regime: over.regime ?? 'high', window_minutes: 15, observed,
    expected: over.expected ?? 6, lift: observed / 6, p_value: null, z: 5, authors: observed, reach: null,
  };
  return { severity, rules: why.rules, calm: over.calm ?? severity === null, why, window: { from: 0, to: 0 } };
}
const quiet = detection(null, { calm: true });
const busy = detection(null, { calm: false });

/** Steps `state` once a minute from minute `from` to `to` (inclusive) with the same detection; every event with its minute. */
function run(state: IncidentState | null, d: Detection, from: number, to: number, params = DEFAULT_LIFECYCLE_PARAMS) {
  const events: string[] = [];
  for (let m = from; m <= to; m++) {
    const step = stepIncident(state, d, at(m), params);
    state = step.state;
    for (const e of step.events) events.push(`${m}:${e.type}${e.reason ? `:${e.reason}` : ''}`);
  }
  return { state, events };
}

describe('stepIncident', () => {
  it('does nothing without an incident and without a trigger', () => {
    expect(stepIncident(null, quiet, at(0))).toEqual({ state: null, events: [] });
    expect(stepIncident(null, busy, at(0))).toEqual({ state: null, events: [] });
  });

  it('opens on a warning, with the evidence and nothing else set', () => {
    const { state, events } = stepIncident(null, detection('warning'), at(0));
    expect(events).toEqual([{ type: 'opened' }]);
    expect(state).toMatchObject({
      status: 'open', severity: 'warning', openedAt: at(0), escalatedAt: null, escalationReason: null, acknowledgedAt: null, resolvedAt: null,
      calmSince: null, peakObserved: 30, peakExpected: 6, notifiedObserved: 30, lastEventAt: at(0),
    });
    expect(state!.why.summary).toBe('negative in 15 min: 30 vs 6 expected');
  });

  it('keeps the state a plain object that survives JSON (it lives in a database row)', () => {
    const { state } = run(null, detection('critical'), 0, 20);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('only raises severity within an incident: warning → critical escalates (severity), critical → warning changes nothing', () => {
    const opened = stepIncident(null, detection('warning'), at(0)).state;
    const up = stepIncident(opened, detection('critical'), at(5));
    expect(up.events).toEqual([{ type: 'escalated', reason: 'severity' }]);
    expect(up.state).toMatchObject({ severity: 'critical', escalatedAt: at(5), escalationReason: 'severity', lastEventAt: at(5) });
    const down = stepIncident(up.state, detection('warning'), at(6));
    expect(down.events).toEqual([]);
    expect(down.state!.severity).toBe('critical');
  });

  it('escalates an unacknowledged critical once, escalateAfterMinutes after it became critical', () => {
    const { state, events } = run(null, detection('critical'), 0, 60);
    expect(events.filter((e) => !e.endsWith('updated'))).toEqual(['0:opened', '15:escalated:unacknowledged']);
    expect(state).toMatchObject({ escalatedAt: at(15), escalationReason: 'unacknowledged' });
    // Counted from when it became critical, not from when it opened.
    const warned = run(null, detection('warning'), 0, 10).state;
    expect(run(warned, detection('critical'), 11, 40).events.filter((e) => e.includes('escalated'))).toEqual(['11:escalated:severity', '26:escalated:unacknowledged']);
  });

  it('does not escalate an acknowledged incident for being unacknowledged, and still resolves it', () => {
    const opened = stepIncident(null, detection('critical'), at(0)).state!;
    const acked = acknowledgeIncident(opened, at(2));
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedAt: at(2) });
    expect(acknowledgeIncident(acked, at(3))).toBe(acked);
    const loud = run(acked, detection('critical'), 3, 40);
    expect(loud.events.filter((e) => e.includes('escalated'))).toEqual([]);
    const calmed = run(loud.state, quiet, 41, 101);
    expect(calmed.events).toEqual(['101:resolved']);
    expect(calmed.state).toMatchObject({ status: 'resolved', resolvedAt: at(101), acknowledgedAt: at(2) });
  });

  it('updates when the observed count doubles since the last notification', () => {
    const opened = stepIncident(null, detection('warning', { observed: 20 }), at(0)).state;
    expect(stepIncident(opened, detection('warning', { observed: 39 }), at(1)).events).toEqual([]);
    const doubled = stepIncident(opened, detection('warning', { observed: 40 }), at(1));
    expect(doubled.events).toEqual([{ type: 'updated' }]);
    expect(doubled.state).toMatchObject({ notifiedObserved: 40, lastEventAt: at(1), peakObserved: 40 });
  });

  it('updates every updateEveryMinutes while open and not calm, and not while calm', () => {
    const opened = stepIncident(null, detection('warning'), at(0)).state;
    expect(run(opened, busy, 1, 95).events).toEqual(['30:updated', '60:updated', '90:updated']);
    expect(run(opened, quiet, 1, 59).events).toEqual([]);
  });

  it('resolves after resolveCalmMinutes of continuous calm; a loud minute starts the count again', () => {
    const opened = stepIncident(null, detection('warning'), at(0)).state;
    const first = run(opened, quiet, 1, 40);
    const interrupted = stepIncident(first.state, busy, at(41)).state;
    expect(interrupted!.calmSince).toBeNull();
    const { events, state } = run(interrupted, quiet, 42, 102);
    expect(events).toEqual(['102:resolved']);
    expect(state).toMatchObject({ status: 'resolved', resolvedAt: at(102), calmSince: null });
  });

  it('stays open at least minDurationMinutes, however soon it is calm', () => {
    const params = { ...DEFAULT_LIFECYCLE_PARAMS, resolveCalmMinutes: 10 };
    const opened = stepIncident(null, detection('warning'), at(0), params).state;
    expect(run(opened, quiet, 1, 40, params).events).toEqual(['30:resolved']);
  });

  it('reopens the same incident on a trigger within the cooldown, open and unacknowledged again', () => {
    const opened = acknowledgeIncident(stepIncident(null, detection('warning'), at(0)).state!, at(1));
    const resolved = run(opened, quiet, 1, 61).state!;
    expect(resolved.status).toBe('resolved');
    const back = stepIncident(resolved, detection('warning'), at(61 + 119));
    expect(back.events).toEqual([{ type: 'reopened' }]);
    expect(back.state).toMatchObject({ status: 'open', openedAt: at(0), acknowledgedAt: null, resolvedAt: null, reopenedAt: at(180) });
    // Back as critical: reopened and escalated.
    expect(stepIncident(resolved, detection('critical'), at(100)).events).toEqual([{ type: 'reopened' }, { type: 'escalated', reason: 'severity' }]);
    // Nothing happens to a resolved incident without a trigger.
    expect(stepIncident(resolved, quiet, at(100))).toEqual({ state: resolved, events: [] });
  });

  it('counts the minimum duration of a reopened incident from its reopening', () => {
    const resolved = run(stepIncident(null, detection('warning'), at(0)).state, quiet, 1, 61).state!;
    const back = stepIncident(resolved, detection('warning'), at(70)).state;
    const params = { ...DEFAULT_LIFECYCLE_PARAMS, resolveCalmMinutes: 5 };
    expect(run(back, quiet, 71, 110, params).events).toEqual(['100:resolved']);
  });

  it('opens a new incident after the cooldown: 2 h in the high-volume regime, 6 h in the low one', () => {
    const resolved = run(stepIncident(null, detection('warning'), at(0)).state, quiet, 1, 61).state!;
    const fresh = stepIncident(resolved, detection('warning'), at(61 + 120));
    expect(fresh.events).toEqual([{ type: 'opened' }]);
    expect(fresh.state).toMatchObject({ openedAt: at(181), status: 'open', reopenedAt: null });

    const low = detection('warning', { regime: 'low' });
    const lowResolved = run(stepIncident(null, low, at(0)).state, detection(null, { calm: true, regime: 'low' }), 1, 61).state!;
    expect(stepIncident(lowResolved, low, at(61 + 300)).events).toEqual([{ type: 'reopened' }]);
    expect(stepIncident(lowResolved, low, at(61 + 360)).events).toEqual([{ type: 'opened' }]);
  });

  it('lets a person resolve it; a trigger within the cooldown still reopens it', () => {
    const opened = stepIncident(null, detection('critical'), at(0)).state!;
    const resolved = resolveIncident(opened, at(10));
    expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: at(10) });
    expect(resolveIncident(resolved, at(11))).toBe(resolved);
    expect(stepIncident(resolved, detection('warning'), at(20)).events).toEqual([{ type: 'reopened' }]);
  });
});
