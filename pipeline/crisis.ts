import { detectCrisis, type Detection, type DetectorInput } from '../alerts/crisis/detector.ts';
import { acknowledgeIncident, resolveIncident, stepIncident, DEFAULT_LIFECYCLE_PARAMS, type IncidentState, type LifecycleParams } from '../alerts/crisis/lifecycle.ts';
import { explainIncident, incidentSummary, planIncidentAlerts, type IncidentForAlert } from '../alerts/incident-alerts.ts';
import type { ChannelRoute } from '../alerts/routes.ts';
import type { IncidentEventType, IncidentExplanation } from '../documents/incident.ts';
import type { Logger } from '../log/logger.ts';
import { listBrands } from '../store/brands.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import {
  brandHistoryStart, crisisMentions, findLatestIncident, getIncident, hourlyCounts, incidentSpans, insertIncident, linkTicketsToIncident,
  updateIncident, type HourCount, type IncidentRow, type IncidentWrite,
} from '../store/incidents.ts';
import { enqueueAlerts, lastQueuedAbout } from '../store/outbox.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HISTORY_DAYS = 28;
const SCOPE = 'all';

export interface CrisisDeps {
  db: Db;
  now: () => Date;
  log: Logger;
  channels: readonly ChannelRoute[];
  lifecycle?: Partial<LifecycleParams>;
  /**
   * Complete hours per brand and when its history starts, kept between evaluations and read again each hour: a
   * past hour does not change (late arrivals wait an hour), nor does a brand's first mention.
   */
  hourCache?: Map<number, { until: number; hours: HourCount[]; historyStart: Date | null }>;
}

function lifecycleOf(deps: CrisisDeps): LifecycleParams {
  return { ...DEFAULT_LIFECYCLE_PARAMS, ...deps.lifecycle };
}

/** What the detector reads of a brand at `now`, from the store. */
async function detectorInput(deps: CrisisDeps, brandId: number, now: Date): Promise<DetectorInput> {
  const hourStart = Math.floor(now.getTime() / HOUR) * HOUR;
  const from = new Date(hourStart - HISTORY_DAYS * DAY);
  let history = deps.hourCache?.get(brandId);
  if (history?.until !== hourStart) {
    history = { until: hourStart, hours: await hourlyCounts(deps.db, brandId, from, new Date(hourStart)), historyStart: await brandHistoryStart(deps.db, brandId) };
    deps.hourCache?.set(brandId, history);
  } else if (history.historyStart === null) {
    // A brand with no mention yet at the hour's start may have its first one now.
    history.historyStart = await brandHistoryStart(deps.db, brandId);
  }
  const negatives = await crisisMentions(deps.db, brandId, new Date(now.getTime() - DAY), now, { negativeOnly: true, withText: false });
  const recent = await crisisMentions(deps.db, brandId, new Date(now.getTime() - HOUR), now, { negativeOnly: false, withText: false });
  const at15 = now.getTime() - 15 * 60_000;
  return {
    now: now.getTime(),
    hours: history.hours,
    historyStart: (history.historyStart ?? now).getTime(),
    negatives: negatives.map((m) => ({ at: m.at.getTime(), author: m.author, story: m.story, reach: m.reach })),
    all60: recent.length,
    all15: recent.filter((m) => m.at.getTime() > at15).length,
    excluded: await incidentSpans(deps.db, brandId, from, now),
  };
}

const EVENT_OF: Record<string, IncidentEventType> = {
  opened: 'incident.opened', reopened: 'incident.opened', escalated: 'incident.escalated', updated: 'incident.updated', resolved: 'incident.resolved',
};

function writeOf(state: IncidentState, explanation: IncidentExplanation, extra: Partial<IncidentWrite> = {}): IncidentWrite {
  return {
    status: state.status, severity: state.severity, openedAt: new Date(state.openedAt),
    escalatedAt: state.escalatedAt === null ? null : new Date(state.escalatedAt), escalationReason: state.escalationReason,
    acknowledgedAt: state.acknowledgedAt === null ? null : new Date(state.acknowledgedAt),
    resolvedAt: state.resolvedAt === null ? null : new Date(state.resolvedAt),
    state: state as unknown as Record<string, unknown>, explanation: explanation as unknown as Record<string, unknown>, ...extra,
  };
}

/**
 * Evaluates one brand's crisis detector now and moves its incident along: opens one (or reopens the last inside
 * its cooldown), escalates, refreshes, resolves, links the brand's negative tickets to it, and queues the
 * messages each step deserves, all in one transaction. Two workers at once: the live incident's unique key and
 * the row's `updated_at` check make one of them win and the other do nothing.
 */
export async function evaluateBrandCrisis(deps: CrisisDeps, brand: { id: number; name: string }): Promise<IncidentEventType[]> {
  const now = deps.now();
  const params = lifecycleOf(deps);
  const latest = await findLatestIncident(deps.db, brand.id, SCOPE);
  const previous = latest ? (latest.state as unknown as IncidentState) : null;
  const detection = detectCrisis(await detectorInput(deps, brand.id, now));
  if (latest && heldByPerson(latest, detection, now, params)) return [];
  const { state, events } = stepIncident(previous, detection, now.getTime(), params);
  if (state === null || (events.length === 0 && (latest === undefined || JSON.stringify(state) === JSON.stringify(previous)))) return [];
  const opened = events.some((e) => e.type === 'opened');
  const peak = { observed: state.peakObserved, expected: state.peakExpected };
  let explanation = latest && !opened ? { ...(latest.explanation as unknown as IncidentExplanation), why: state.why, peak } : null;
  if (events.length > 0 && events.some((e) => e.type !== 'resolved')) {
    // Fresh evidence for the card: the mentions behind the strongest window against the day before it.
    const window = await crisisMentions(deps.db, brand.id, new Date(detection.window.from), new Date(detection.window.to), { negativeOnly: true, withText: true });
    const before = await crisisMentions(deps.db, brand.id, new Date(detection.window.from - DAY), new Date(detection.window.from - 1), { negativeOnly: true, withText: true });
    explanation = explainIncident({ why: state.why, peak, window, before, brand: brand.name });
  }
  if (explanation === null) explanation = explainIncident({ why: state.why, peak, window: [], before: [], brand: brand.name });

  return inTransaction(deps.db, async (trx) => {
    let id: string;
    if (opened || !latest) {
      const inserted = await insertIncident(trx, { brandId: brand.id, scope: SCOPE, ...writeOf(state, explanation) }, now);
      if (inserted === null) return [];
      id = inserted;
    } else {
      const reopened = events.some((e) => e.type === 'reopened');
      const extra: Partial<IncidentWrite> = reopened ? { acknowledgedBy: null, resolvedBy: null, resolutionNote: null } : events.some((e) => e.type === 'resolved') ? { resolvedBy: 'detector' } : {};
      if (!(await updateIncident(trx, latest.id, writeOf(state, explanation, extra), now, latest.updatedAt))) return [];
      id = latest.id;
    }
    if (state.status !== 'resolved') {
      await linkTicketsToIncident(trx, id, brand.id, new Date(Math.min(state.openedAt, detection.window.from)));
    }
    const incident: IncidentForAlert = { id, brandId: brand.id, brand: brand.name, scope: SCOPE, severity: state.severity };
    const lastSent = events.length > 0 ? await lastQueuedAbout(trx, `incident:${id}`) : new Map<string, Date>();
    const alerts = events.flatMap((e) =>
      planIncidentAlerts({
        incident, event: EVENT_OF[e.type]!, summary: incidentSummary(e.type === 'reopened' ? 'reopened' : e.type === 'escalated' && e.reason === 'unacknowledged' ? 'unacknowledged' : EVENT_OF[e.type]!, incident, 'detector'),
        channels: deps.channels, now, lastSent, remind: e.type === 'reopened',
      }),
    );
    await enqueueAlerts(trx, alerts, now);
    for (const e of events) {
      deps.log.info({ incident: id, brand: brand.name, event: e.type, reason: e.reason, severity: state.severity, why: state.why.summary }, 'crisis incident');
    }
    return events.map((e) => EVENT_OF[e.type]!);
  });
}

/**
 * A person resolved the incident ("handled"): within its cooldown the same level of alarm does not bring it
 * back, only a worse one does. Without this, resolving by hand during a long spike would reopen it a minute later.
 */
function heldByPerson(latest: IncidentRow, detection: Detection, now: Date, params: LifecycleParams): boolean {
  if (latest.status !== 'resolved' || latest.resolvedAt === null || latest.resolvedBy === 'detector' || detection.severity === null) return false;
  const cooldown = (detection.why.regime === 'low' ? params.cooldownLowMinutes : params.cooldownHighMinutes) * 60_000;
  const worse = detection.severity === 'critical' && latest.severity === 'warning';
  return now.getTime() - latest.resolvedAt.getTime() < cooldown && !worse;
}

/** Every brand's detector, one brand after another; a brand that fails is logged and the rest go on. */
export async function evaluateCrises(deps: CrisisDeps): Promise<number> {
  let events = 0;
  for (const brand of await listBrands(deps.db)) {
    try {
      events += (await evaluateBrandCrisis(deps, { id: brand.id, name: brand.name })).length;
    } catch (err) {
      deps.log.warn({ err, brand: brand.name }, 'crisis evaluation failed; trying again next round');
    }
  }
  return events;
}

/**
 * Announces unacknowledged live incidents again on each channel that last heard of them longer than its
 * repeat interval ago, as a new message that pings.
 */
export async function repeatUnacknowledged(deps: CrisisDeps, incidents: readonly IncidentRow[]): Promise<number> {
  const now = deps.now();
  let queued = 0;
  for (const row of incidents) {
    if (row.status !== 'open') continue;
    // The last message that pinged: card refreshes are edits, which ping nobody.
    const lastSent = await lastQueuedAbout(deps.db, `incident:${row.id}`, { except: ['incident.updated'] });
    const due = new Set(
      deps.channels
        .filter((c) => (c.repeatIntervalSeconds ?? 0) > 0)
        .filter((c) => {
          const last = lastSent.get(c.id);
          return last !== undefined && now.getTime() - last.getTime() >= c.repeatIntervalSeconds! * 1000;
        })
        .map((c) => c.id),
    );
    if (due.size === 0) continue;
    const incident: IncidentForAlert = { id: row.id, brandId: row.brandId, brand: row.brand, scope: row.scope, severity: row.severity };
    const alerts = planIncidentAlerts({
      incident, event: 'incident.opened', summary: `Not acknowledged yet: ${incidentSummary('incident.opened', incident)}`,
      channels: deps.channels, now, lastSent: new Map(), remind: true, only: due,
    });
    queued += await inTransaction(deps.db, (trx) => enqueueAlerts(trx, alerts, now));
  }
  return queued;
}

export type IncidentActionResult = { ok: true; incident: IncidentRow; changed: boolean } | { ok: false; reason: 'missing' };

/**
 * A person acknowledged (from a button or the API) or resolved an incident: the state moves, and each channel's
 * card is refreshed (acknowledged) or told (resolved). Acknowledging twice changes nothing.
 */
export async function actOnIncident(
  deps: CrisisDeps,
  id: string,
  action: { kind: 'ack' | 'resolve'; by: string; note?: string | null },
): Promise<IncidentActionResult> {
  const now = deps.now();
  return inTransaction(deps.db, async (trx) => {
    const row = await getIncident(trx, id);
    if (!row) return { ok: false as const, reason: 'missing' as const };
    const state = row.state as unknown as IncidentState;
    const explanation = row.explanation as unknown as IncidentExplanation;
    if (row.status === 'resolved' || (action.kind === 'ack' && row.status === 'acknowledged')) return { ok: true as const, incident: row, changed: false };
    const next = action.kind === 'ack' ? acknowledgeIncident(state, now.getTime()) : resolveIncident(state, now.getTime());
    const extra: Partial<IncidentWrite> = action.kind === 'ack'
      ? { acknowledgedBy: action.by }
      : { resolvedBy: action.by, resolutionNote: action.note ?? null };
    await updateIncident(trx, id, writeOf(next, explanation, extra), now);
    const incident: IncidentForAlert = { id, brandId: row.brandId, brand: row.brand, scope: row.scope, severity: next.severity };
    const event: IncidentEventType = action.kind === 'ack' ? 'incident.updated' : 'incident.resolved';
    const summary = incidentSummary(action.kind === 'ack' ? 'acknowledged' : 'incident.resolved', incident, action.by);
    // An acknowledgement refreshes every card at once, whatever the group interval: the pressed button must go.
    await enqueueAlerts(trx, planIncidentAlerts({ incident, event, summary, channels: deps.channels, now, lastSent: new Map() }), now);
    deps.log.info({ incident: id, action: action.kind, by: action.by }, 'crisis incident');
    return { ok: true as const, incident: (await getIncident(trx, id))!, changed: true };
  });
}
