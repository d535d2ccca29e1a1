import type { IncidentSeverity, IncidentStatus, IncidentWhy } from '../../documents/incident.ts';
import type { Detection } from './detector.ts';

// The life of a crisis incident (research/integrations.md §4.4 "Incident lifecycle"), as a pure step: the
// state a brand+scope's incident is in, one detection, the clock → the next state and what to tell people.
// The state is a plain object of numbers and strings: the live side keeps it in a database row as it is.

const MINUTE_MS = 60_000;

export interface IncidentState {
  status: IncidentStatus;
  severity: IncidentSeverity;
  openedAt: number;
  escalatedAt: number | null;
  escalationReason: 'severity' | 'unacknowledged' | null;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  calmSince: number | null;
  peakObserved: number;
  peakExpected: number;
  /** Observed at the last opened/escalated/updated event. */
  notifiedObserved: number;
  lastEventAt: number;
  /** The latest strongest evidence. */
  why: IncidentWhy;
  /** When it last came back within its cooldown: the minimum duration counts from here. */
  reopenedAt?: number | null;
  /** When it (last) became critical while open: the unacknowledged escalation counts from here. */
  criticalSince?: number | null;
}

export type IncidentEventType = 'opened' | 'reopened' | 'escalated' | 'updated' | 'resolved';
export interface IncidentEvent {
  type: IncidentEventType;
  reason?: 'severity' | 'unacknowledged';
}

export interface LifecycleParams {
  /** After resolution a trigger within this reopens the same incident: high-volume (and absolute) regime. */
  cooldownHighMinutes: number;
  /** The same for the low-volume regime, whose windows are hours long. */
  cooldownLowMinutes: number;
  /** Calm (every window under the hysteresis line) this long, continuously, resolves… */
  resolveCalmMinutes: number;
  /** …once the incident has been open at least this long. */
  minDurationMinutes: number;
  /** A critical incident nobody acknowledged this long escalates once more. */
  escalateAfterMinutes: number;
  /** While open and not calm, an update this often even when nothing else changed. */
  updateEveryMinutes: number;
  /** An update as soon as the observed count reaches this multiple of the last notified one. */
  updateGrowth: number;
}

export const DEFAULT_LIFECYCLE_PARAMS: LifecycleParams = Object.freeze({
  cooldownHighMinutes: 120,
  cooldownLowMinutes: 360,
  resolveCalmMinutes: 60,
  minDurationMinutes: 30,
  escalateAfterMinutes: 15,
  updateEveryMinutes: 30,
  updateGrowth: 2,
});

const RANK: Record<IncidentSeverity, number> = { warning: 1, critical: 2 };

/**
 * One evaluation: the incident of a brand+scope (null when none was ever opened, or the last resolved one),
 * the detection now → the new state and what to tell people. At most one of opened/reopened/escalated per
 * step plus the unacknowledged escalation; `updated` only when nothing else was said.
 */
export function stepIncident(
  state: IncidentState | null,
  detection: Detection,
  now: number,
  params: LifecycleParams = DEFAULT_LIFECYCLE_PARAMS,
): { state: IncidentState | null; events: IncidentEvent[] } {
  const severity = detection.severity;
  if (state === null || state.status === 'resolved') {
    if (severity === null) return { state, events: [] };
    if (state !== null && state.resolvedAt !== null && now - state.resolvedAt < cooldownOf(state, params) * MINUTE_MS) {
      return reopen(state, detection, severity, now);
    }
    return { state: open(detection, severity, now), events: [{ type: 'opened' }] };
  }

  const next: IncidentState = { ...state, why: severity !== null ? detection.why : state.why };
  const events: IncidentEvent[] = [];
  if (detection.why.observed > next.peakObserved) {
    next.peakObserved = detection.why.observed;
    next.peakExpected = detection.why.expected;
  }
  // Severity only goes up within an incident.
  if (severity !== null && RANK[severity] > RANK[next.severity]) {
    Object.assign(next, { severity, escalatedAt: now, escalationReason: 'severity', criticalSince: now });
    events.push({ type: 'escalated', reason: 'severity' });
  }
  if (next.severity === 'critical' && next.status === 'open' && next.escalationReason !== 'unacknowledged') {
    const since = next.criticalSince ?? next.escalatedAt ?? next.openedAt;
    if (now - since >= params.escalateAfterMinutes * MINUTE_MS) {
      Object.assign(next, { escalatedAt: now, escalationReason: 'unacknowledged' });
      events.push({ type: 'escalated', reason: 'unacknowledged' });
    }
  }

  next.calmSince = detection.calm ? (next.calmSince ?? now) : null;
  const activeSince = next.reopenedAt ?? next.openedAt;
  if (
    next.calmSince !== null &&
    now - next.calmSince >= params.resolveCalmMinutes * MINUTE_MS &&
    now - activeSince >= params.minDurationMinutes * MINUTE_MS
  ) {
    Object.assign(next, { status: 'resolved', resolvedAt: now, calmSince: null, lastEventAt: now });
    events.push({ type: 'resolved' });
    return { state: next, events };
  }

  if (events.length === 0) {
    const grew = next.notifiedObserved > 0 ? detection.why.observed >= params.updateGrowth * next.notifiedObserved : detection.why.observed > 0 && severity !== null;
    const due = !detection.calm && now - next.lastEventAt >= params.updateEveryMinutes * MINUTE_MS;
    if (grew || due) events.push({ type: 'updated' });
  }
  if (events.length > 0) {
    next.lastEventAt = now;
    next.notifiedObserved = detection.why.observed;
  }
  return { state: next, events };
}

/** Acknowledged: no unacknowledged escalation any more; it still updates and resolves. */
export function acknowledgeIncident(state: IncidentState, now: number): IncidentState {
  if (state.status !== 'open') return state;
  return { ...state, status: 'acknowledged', acknowledgedAt: now };
}

/** Resolved by a person. A trigger within the cooldown still reopens it. */
export function resolveIncident(state: IncidentState, now: number): IncidentState {
  if (state.status === 'resolved') return state;
  return { ...state, status: 'resolved', resolvedAt: now, calmSince: null };
}

function open(detection: Detection, severity: IncidentSeverity, now: number): IncidentState {
  return {
    status: 'open', severity, openedAt: now, escalatedAt: null, escalationReason: null, acknowledgedAt: null, resolvedAt: null, calmSince: null,
    peakObserved: detection.why.observed, peakExpected: detection.why.expected, notifiedObserved: detection.why.observed, lastEventAt: now,
    why: detection.why, reopenedAt: null, criticalSince: severity === 'critical' ? now : null,
  };
}

/** Back within the cooldown: the same incident, open (and unacknowledged) again, never less severe than it was. */
function reopen(state: IncidentState, detection: Detection, severity: IncidentSeverity, now: number): { state: IncidentState; events: IncidentEvent[] } {
  const up = RANK[severity] > RANK[state.severity];
  const next: IncidentState = {
    ...state, status: 'open', acknowledgedAt: null, resolvedAt: null, calmSince: null, reopenedAt: now, lastEventAt: now, why: detection.why,
    notifiedObserved: detection.why.observed, peakObserved: Math.max(state.peakObserved, detection.why.observed),
    peakExpected: detection.why.observed > state.peakObserved ? detection.why.expected : state.peakExpected,
    criticalSince: severity === 'critical' || state.severity === 'critical' ? now : null,
  };
  const events: IncidentEvent[] = [{ type: 'reopened' }];
  if (up) {
    Object.assign(next, { severity, escalatedAt: now, escalationReason: 'severity' });
    events.push({ type: 'escalated', reason: 'severity' });
  }
  return { state: next, events };
}

function cooldownOf(state: IncidentState, params: LifecycleParams): number {
  return state.why.regime === 'low' ? params.cooldownLowMinutes : params.cooldownHighMinutes;
}
