import type { IncidentSeverity, IncidentWhy } from '../../documents/incident.ts';
import {
  buildCrisisBaseline, DEFAULT_CRISIS_PARAMS, detectCrisis, type CrisisBaseline, type CrisisParams, type DetectorInput, type HourBucket,
  type NegativePoint,
} from './detector.ts';
import { DEFAULT_LIFECYCLE_PARAMS, stepIncident, type IncidentState, type LifecycleParams } from './lifecycle.ts';

// A backtest (§4.4 "Cold start and backtesting"): the detector and the incident lifecycle run over a mention
// history as if live, a tick every few minutes of data time, each brand on its own. Pure, and incremental so
// a month of a busy brand replays in about a second: hour buckets are counted once, the baseline is built
// once an hour, and the last day's negatives and the last hour's mentions are windows that only slide.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

export interface ReplayMention {
  brand: string;
  /** Epoch ms. */
  at: number;
  sentiment: 'negative' | 'neutral' | 'positive';
  author: string | null;
  reach: number | null;
  /** Copies of one story share it; null: a story of its own. */
  story: string | null;
}

export interface ReplayOptions {
  /** Data time between two evaluations (default 1). */
  stepMinutes?: number;
  /** After a brand's last mention, ticks go on until its incident resolves, at most this long (default 48). */
  tailHours?: number;
  params?: CrisisParams;
  lifecycle?: LifecycleParams;
}

/** One incident the detector would have opened. A reopened incident is the same one. */
export interface ReplayIncident {
  brand: string;
  /** The highest severity it reached. */
  severity: IncidentSeverity;
  openedAt: number;
  /** Its first escalation (to critical, or a critical one left unacknowledged). */
  escalatedAt: number | null;
  /** When it first was critical. */
  criticalAt: number | null;
  resolvedAt: number | null;
  /** When it came back within its cooldown, oldest first. */
  reopenedAt: number[];
  /** The evidence at its strongest moment: the highest severity, then the strongest window. */
  why: IncidentWhy;
}

export interface ReplaySummary {
  incidents: number;
  /** Incidents whose highest severity is warning, per brand per week of data; null without a week to divide by. */
  warnings_per_week: number | null;
  criticals_per_week: number | null;
  brands: number;
  /** Brand-weeks of data: each brand from its first mention to its last. */
  weeks: number;
}

export interface ReplayResult {
  incidents: ReplayIncident[];
  summary: ReplaySummary;
}

export function replayCrisis(mentions: readonly ReplayMention[], options: ReplayOptions = {}): ReplayResult {
  const byBrand = new Map<string, ReplayMention[]>();
  for (const m of mentions) {
    const list = byBrand.get(m.brand);
    if (list) list.push(m);
    else byBrand.set(m.brand, [m]);
  }
  const incidents: ReplayIncident[] = [];
  let brandMs = 0;
  for (const [brand, list] of byBrand) {
    // A stable sort: lines of one instant keep their file order.
    list.sort((a, b) => a.at - b.at);
    brandMs += list[list.length - 1]!.at - list[0]!.at;
    incidents.push(...replayBrand(brand, list, options));
  }
  incidents.sort((a, b) => a.openedAt - b.openedAt || a.brand.localeCompare(b.brand));
  const weeks = brandMs / WEEK_MS;
  const perWeek = (severity: IncidentSeverity) => (weeks > 0 ? round(incidents.filter((i) => i.severity === severity).length / weeks) : null);
  return {
    incidents,
    summary: { incidents: incidents.length, warnings_per_week: perWeek('warning'), criticals_per_week: perWeek('critical'), brands: byBrand.size, weeks: round(weeks) },
  };
}

/** The CLI's output: one JSON line per incident, then the summary line. */
export function replayLines(result: ReplayResult): string[] {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return [
    ...result.incidents.map((i) =>
      JSON.stringify({
        brand: i.brand, scope: 'all', severity: i.severity, opened_at: iso(i.openedAt), escalated_at: iso(i.escalatedAt), resolved_at: iso(i.resolvedAt),
        why: i.why, critical_at: iso(i.criticalAt), reopened_at: i.reopenedAt.map(iso),
      }),
    ),
    JSON.stringify(result.summary),
  ];
}

interface Tracked extends ReplayIncident {
  best: { rank: number; strength: number };
}

function replayBrand(brand: string, list: readonly ReplayMention[], options: ReplayOptions): ReplayIncident[] {
  const params = options.params ?? DEFAULT_CRISIS_PARAMS;
  const lifecycle = options.lifecycle ?? DEFAULT_LIFECYCLE_PARAMS;
  const step = Math.max(1, Math.round((options.stepMinutes ?? 1) * MINUTE_MS));
  const first = list[0]!.at;
  const last = list[list.length - 1]!.at;
  const end = last + (options.tailHours ?? 48) * HOUR_MS;

  // Every hour of the history, dense from the first mention's hour: the detector only ever sees hours
  // that ended before its clock, so counting them up front reads nothing from its future.
  const firstHour = Math.floor(first / HOUR_MS) * HOUR_MS;
  const buckets: HourBucket[] = [];
  for (let h = firstHour; h <= last; h += HOUR_MS) buckets.push({ start: h, all: 0, negative: 0, reach: 0 });
  const negatives: NegativePoint[] = [];
  for (const m of list) {
    const bucket = buckets[Math.floor((m.at - firstHour) / HOUR_MS)]!;
    bucket.all++;
    if (m.sentiment !== 'negative') continue;
    bucket.negative++;
    bucket.reach += m.reach ?? 0;
    negatives.push({ at: m.at, author: m.author, story: m.story, reach: m.reach });
  }
  const historyHours = params.historyDays * 24;

  const incidents: Tracked[] = [];
  const spans: { from: number; to: number }[] = [];
  let state: IncidentState | null = null;
  let baseline: CrisisBaseline | null = null;
  let baselineVersion = -1;
  let version = 0;
  // Slide indexes: negatives in (t − 24 h, t], all mentions in (t − 60 min, t] and (t − 15 min, t].
  let negLo = 0;
  let negHi = 0;
  let allHi = 0;
  let all60 = 0;
  let all15 = 0;

  for (let t = Math.ceil(first / step) * step; t <= last || (state !== null && state.status !== 'resolved' && t <= end); t += step) {
    while (negHi < negatives.length && negatives[negHi]!.at <= t) negHi++;
    while (negLo < negHi && negatives[negLo]!.at <= t - DAY_MS) negLo++;
    while (allHi < list.length && list[allHi]!.at <= t) allHi++;
    while (all60 < allHi && list[all60]!.at <= t - HOUR_MS) all60++;
    while (all15 < allHi && list[all15]!.at <= t - 15 * MINUTE_MS) all15++;

    const hourStart = Math.floor(t / HOUR_MS) * HOUR_MS;
    const open = state !== null && state.status !== 'resolved';
    const excluded = open ? [...spans, { from: incidents[incidents.length - 1]!.openedAt, to: t }] : spans;
    const upTo = Math.max(0, Math.min(buckets.length, (hourStart - firstHour) / HOUR_MS));
    const input: DetectorInput = {
      now: t,
      hours: buckets.slice(Math.max(0, upTo - historyHours), upTo),
      historyStart: first,
      negatives: negatives.slice(negLo, negHi),
      all60: allHi - all60,
      all15: allHi - all15,
      excluded,
    };
    // The baseline changes with the hour and with the incidents left out of it, not with the minute.
    if (baseline === null || baseline.hourStart !== hourStart || baselineVersion !== version) {
      baseline = buildCrisisBaseline(input, params);
      baselineVersion = version;
    }
    const detection = detectCrisis(input, params, baseline);
    const stepped = stepIncident(state, detection, t, lifecycle);
    state = stepped.state;
    // Only a status change moves the excluded spans.
    if (stepped.events.some((e) => e.type !== 'updated' && e.type !== 'escalated')) version++;

    for (const event of stepped.events) {
      if (event.type === 'opened') {
        incidents.push({
          brand, severity: state!.severity, openedAt: t, escalatedAt: null, criticalAt: state!.severity === 'critical' ? t : null, resolvedAt: null,
          reopenedAt: [], why: detection.why, best: { rank: -1, strength: -Infinity },
        });
      }
      const current = incidents[incidents.length - 1]!;
      if (event.type === 'reopened') {
        current.reopenedAt.push(t);
        current.resolvedAt = null;
        spans.pop();
      }
      if (event.type === 'escalated') current.escalatedAt ??= t;
      if (event.type === 'resolved') {
        current.resolvedAt = t;
        spans.push({ from: current.openedAt, to: t });
      }
    }
    if (state !== null && (state.status !== 'resolved' || stepped.events.length > 0) && detection.severity !== null) {
      const current = incidents[incidents.length - 1]!;
      current.severity = state.severity;
      if (state.severity === 'critical') current.criticalAt ??= t;
      const rank = detection.severity === 'critical' ? 2 : 1;
      const strength = detection.strength ?? 0;
      if (rank > current.best.rank || (rank === current.best.rank && strength > current.best.strength)) {
        current.best = { rank, strength };
        current.why = detection.why;
      }
    }
  }
  return incidents.map(({ best: _best, ...incident }) => incident);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
