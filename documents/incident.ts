import { z } from 'zod';
import type { Db } from '../store/connect.ts';
import { getIncident, type IncidentRow } from '../store/incidents.ts';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from './fields.ts';

// What a crisis incident and a daily digest look like outside: the API, and every channel's message about
// them (Telegram, Slack, email, the generic webhook) render these documents.

export const INCIDENT_SEVERITIES = ['warning', 'critical'] as const;
export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** The rules of the crisis detector; an incident names the ones that fired. */
export const CRISIS_RULES = ['nb_tail', 'volume_z', 'sustained_z', 'share_jump', 'cusum', 'high_reach', 'absolute'] as const;
export type CrisisRule = (typeof CRISIS_RULES)[number];

/** Why an incident was opened (or escalated): the strongest evidence, in numbers a PR lead can check. */
export const incidentWhySchema = z.object({
  summary: z.string().describe('One line: "negative 6h: 14 vs expected 1.2 (p=3e-7), 9 authors"'),
  rules: z.array(z.enum(CRISIS_RULES)).describe('Every rule that fired at the strongest moment'),
  regime: z.enum(['low', 'high', 'absolute']).describe('low: a few negatives a day (tail probability); high: many (robust z); absolute: too little history'),
  window_minutes: z.number().int(),
  observed: z.number().describe('Negative mentions in the window'),
  expected: z.number().describe("What the brand's hour-of-week rhythm expects in the window"),
  lift: z.number().nullable().describe('observed / expected'),
  p_value: z.number().nullable().describe('Negative-binomial tail probability (low-volume regime)'),
  z: z.number().nullable().describe('Robust z-score (high-volume regime)'),
  authors: z.number().int().describe('Distinct authors among the negative mentions; copies of one story count once'),
  reach: z.number().nullable().describe('Summed reach of the negative mentions in the window, every copy counted'),
});
export type IncidentWhy = z.output<typeof incidentWhySchema>;

export const incidentPostSchema = z.object({
  mention_id: z.string().nullable(),
  url: z.string().nullable(),
  source: z.string().nullable(),
  author: z.string().nullable(),
  reach: z.number().nullable(),
  published_at: nullableTimestampSchema,
  excerpt: z.string(),
});

export const incidentDocument = z.object({
  id: z.string(),
  brand: z.string().describe('The brand slug'),
  brand_name: z.string(),
  scope: z.string().describe('"all", or "source:<name>" for one source'),
  severity: z.enum(INCIDENT_SEVERITIES),
  status: z.enum(INCIDENT_STATUSES),
  opened_at: timestampSchema,
  escalated_at: nullableTimestampSchema.describe('When it became critical, or a critical one went unacknowledged too long'),
  escalation_reason: z.enum(['severity', 'unacknowledged']).nullable(),
  acknowledged_at: nullableTimestampSchema,
  acknowledged_by: z.string().nullable().describe('"telegram:@user", "slack:U123", "apikey:<key name>", "user:<email>"'),
  resolved_at: nullableTimestampSchema,
  resolved_by: z.string().nullable().describe('"detector" when the talk calmed down, or who resolved it'),
  resolution_note: z.string().nullable(),
  why: incidentWhySchema,
  peak: z.object({ observed: z.number(), expected: z.number() }).describe('The largest window count seen while open'),
  top_terms: z.array(z.string()),
  top_sources: z.array(z.object({ source: z.string(), count: z.number().int() })),
  languages: z.array(z.object({ language: z.string(), count: z.number().int() })),
  top_posts: z.array(incidentPostSchema).describe('The three negative posts with the most reach, with links'),
  tickets: z.number().int().describe('Tickets linked to the incident: their own alerts are held back while it is open'),
  url: z.string().nullable().describe('The incident in earshot, when a public URL is configured'),
});
export type IncidentDocument = z.output<typeof incidentDocument>;

export const INCIDENT_EVENTS = ['incident.opened', 'incident.escalated', 'incident.updated', 'incident.resolved'] as const;
export type IncidentEventType = (typeof INCIDENT_EVENTS)[number];

/** A channel's message about an incident. `alert.summary` is the headline. */
export const incidentEvent = z.object({
  type: z.enum(INCIDENT_EVENTS),
  timestamp: timestampSchema,
  data: z.object({
    incident: incidentDocument,
    alert: z.object({ kind: z.string(), summary: z.string() }),
  }),
});
export type IncidentEvent = z.output<typeof incidentEvent>;

/** One brand's day in a digest. */
export const digestBrandSchema = z.object({
  brand: z.string(),
  name: z.string(),
  mentions: z.number().int(),
  negative: z.number().int(),
  tickets_opened: z.number().int(),
  tickets_solved: z.number().int(),
  tickets_open: z.number().int().describe('Open now (new, open, pending, on hold)'),
  sla_breached: z.number().int().describe('Tickets whose SLA was breached in the period'),
  incidents: z.number().int(),
});

export const digestDocument = z.object({
  channel: z.string(),
  period_start: timestampSchema,
  period_end: timestampSchema,
  time_zone: z.string(),
  brands: z.array(digestBrandSchema),
  incidents: z.array(z.object({ id: z.string(), brand: z.string(), severity: z.enum(INCIDENT_SEVERITIES), status: z.enum(INCIDENT_STATUSES), summary: z.string() })),
  held: z.number().int().describe('Alerts this channel held during its quiet hours in the period'),
});
export type DigestDocument = z.output<typeof digestDocument>;

export const digestEvent = z.object({
  type: z.literal('digest'),
  timestamp: timestampSchema,
  data: z.object({ digest: digestDocument, alert: z.object({ kind: z.literal('digest'), summary: z.string() }) }),
});
export type DigestEvent = z.output<typeof digestEvent>;

/** What the live side keeps in an incident's `explanation`: the evidence and the mentions behind it. */
export type IncidentExplanation = Pick<IncidentDocument, 'why' | 'peak' | 'top_terms' | 'top_sources' | 'languages' | 'top_posts'>;

export function incidentDocumentOf(row: IncidentRow, publicUrl: string | null): IncidentDocument {
  const e = row.explanation as unknown as IncidentExplanation;
  return {
    id: row.id,
    brand: row.brand,
    brand_name: row.brand,
    scope: row.scope,
    severity: row.severity,
    status: row.status,
    opened_at: formatTimestamp(row.openedAt),
    escalated_at: row.escalatedAt ? formatTimestamp(row.escalatedAt) : null,
    escalation_reason: row.escalationReason,
    acknowledged_at: row.acknowledgedAt ? formatTimestamp(row.acknowledgedAt) : null,
    acknowledged_by: row.acknowledgedBy,
    resolved_at: row.resolvedAt ? formatTimestamp(row.resolvedAt) : null,
    resolved_by: row.resolvedBy,
    resolution_note: row.resolutionNote,
    why: e.why,
    peak: e.peak,
    top_terms: e.top_terms ?? [],
    top_sources: e.top_sources ?? [],
    languages: e.languages ?? [],
    top_posts: e.top_posts ?? [],
    tickets: row.tickets,
    url: publicUrl ? `${publicUrl.replace(/\/+$/, '')}/api/v1/incidents/${row.id}` : null,
  };
}

/** An incident event as a channel reads it, rendered from the incident as it is now; null when it is gone. */
export async function loadIncidentEvent(
  db: Db,
  id: string,
  message: { type: string; createdAt: Date; payload: Record<string, unknown> },
  publicUrl: string | null,
): Promise<IncidentEvent | null> {
  const row = await getIncident(db, id);
  if (!row) return null;
  const alert = (message.payload as { alert?: { kind: string; summary: string } }).alert ?? { kind: message.type, summary: message.type };
  return { type: message.type as IncidentEventType, timestamp: formatTimestamp(message.createdAt), data: { incident: incidentDocumentOf(row, publicUrl), alert } };
}
