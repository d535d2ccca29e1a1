import type { IncidentEventType, IncidentExplanation, IncidentSeverity, IncidentWhy } from '../documents/incident.ts';
import type { CrisisMention } from '../store/incidents.ts';
import type { ChannelAlert } from '../store/outbox.ts';
import { channelsFor, sendAt, type ChannelRoute } from './routes.ts';

export interface IncidentForAlert {
  id: string;
  brandId: number;
  brand: string;
  scope: string;
  severity: IncidentSeverity;
}

/**
 * An incident's messages: one per channel that hears the event and whose filters pass (brand; source for a
 * source scope). A critical incident passes quiet hours. A refresh (`incident.updated`) goes to a channel at
 * most once per its group interval; `remind` starts a new card so that it pings (a repeat, a reopened crisis).
 * The incident is the message's subject: a channel's later messages edit or thread on its card.
 */
export function planIncidentAlerts(input: {
  incident: IncidentForAlert;
  event: IncidentEventType;
  summary: string;
  channels: readonly ChannelRoute[];
  now: Date;
  /** When each channel was last sent something about this incident. */
  lastSent: ReadonlyMap<string, Date>;
  remind?: boolean;
  /** Only these channels (a repeat is per channel); default: every channel that hears it. */
  only?: ReadonlySet<string>;
}): ChannelAlert[] {
  const { incident, event, now } = input;
  const source = incident.scope.startsWith('source:') ? incident.scope.slice('source:'.length) : null;
  const facts = { event, brand: incident.brand, source, critical: incident.severity === 'critical' };
  return channelsFor(input.channels, facts)
    .filter((c) => input.only === undefined || input.only.has(c.id))
    .filter((c) => {
      if (event !== 'incident.updated') return true;
      const last = input.lastSent.get(c.id);
      return last === undefined || now.getTime() - last.getTime() >= (c.groupIntervalSeconds ?? 0) * 1000;
    })
    .map((route) => ({ route, when: sendAt(route, facts, now) }))
    .map(({ route, when }) => ({
      kind: `incident:${event}`,
      brandId: incident.brandId,
      incidentId: incident.id,
      heldUntil: when.quietUntil,
      message: {
        messageId: `msg_incident_${incident.id}_${event.replace('.', '_')}_${now.getTime()}_channel_${route.id}`,
        destinationKind: 'channel' as const,
        destinationId: route.id,
        eventType: event,
        ticketId: null,
        subject: `incident:${incident.id}`,
        payload: { alert: { kind: event.replace('.', '_'), summary: input.summary }, ...(input.remind ? { remind: true } : {}) },
        notBefore: when.at,
      },
    }));
}

/**
 * The headline of an incident message. Channels show the severity, status and evidence beside it, so it says
 * only what happened.
 */
export function incidentSummary(event: IncidentEventType | 'reopened' | 'acknowledged' | 'unacknowledged', incident: IncidentForAlert, by?: string | null): string {
  const scope = incident.scope === 'all' ? '' : ` (${incident.scope.replace('source:', '')})`;
  const head = `${incident.brand}${scope}`;
  switch (event) {
    case 'incident.opened':
      return `Negative talk about ${head} is spiking`;
    case 'reopened':
      return `Negative talk about ${head} is spiking again`;
    case 'incident.escalated':
      return `${head}: escalated to ${incident.severity}`;
    case 'unacknowledged':
      return `${head}: critical and still not acknowledged`;
    case 'incident.updated':
      return `${head}: still going`;
    case 'acknowledged':
      return `${head}: acknowledged${by ? ` by ${by}` : ''}`;
    case 'incident.resolved':
      return `${head}: negative talk is back to normal${by && by !== 'detector' ? ` (resolved by ${by})` : ''}`;
  }
}

const STOP_WORDS = new Set([
  // Russian function words that survive the length filter.
  'этот', 'этого', 'этом', 'эта', 'эти', 'этих', 'было', 'была', 'были', 'будет', 'быть', 'если', 'когда', 'тоже', 'также', 'очень',
  'только', 'даже', 'уже', 'чтобы', 'потому', 'который', 'которые', 'которая', 'которых', 'свой', 'свои', 'своих', 'меня', 'мной',
  'тебя', 'него', 'нему', 'неё', 'нее', 'ними', 'есть', 'нет', 'всех', 'всем', 'весь', 'вся', 'всё', 'все', 'почему', 'сейчас',
  'после', 'через', 'перед', 'более', 'менее', 'можно', 'нужно', 'просто', 'вообще', 'здесь', 'там', 'тогда', 'опять', 'снова',
  // English.
  'this', 'that', 'with', 'have', 'from', 'they', 'them', 'their', 'there', 'were', 'what', 'when', 'will', 'would', 'your', 'about',
  'just', 'been', 'than', 'then', 'into', 'only', 'also', 'very', 'because', 'after', 'again', 'still',
]);

function words(text: string): Set<string> {
  const found = new Set<string>();
  for (const w of text.toLowerCase().replaceAll('ё', 'е').match(/\p{L}[\p{L}\p{N}'-]{3,}/gu) ?? []) {
    if (!STOP_WORDS.has(w)) found.add(w);
  }
  return found;
}

/**
 * What an incident card shows beside the numbers: the terms that set the window's negative mentions apart from
 * the brand's negative talk before it (document frequency, weighted by how rare the term was before), the
 * sources and languages, and the three posts with the most reach.
 */
export function explainIncident(input: {
  why: IncidentWhy;
  peak: { observed: number; expected: number };
  window: readonly CrisisMention[];
  before: readonly CrisisMention[];
  brand: string;
}): IncidentExplanation {
  const brandWords = words(input.brand);
  const dfWindow = new Map<string, number>();
  for (const m of input.window) for (const w of words(`${m.title ?? ''} ${m.text}`)) dfWindow.set(w, (dfWindow.get(w) ?? 0) + 1);
  const dfBefore = new Map<string, number>();
  for (const m of input.before) for (const w of words(`${m.title ?? ''} ${m.text}`)) dfBefore.set(w, (dfBefore.get(w) ?? 0) + 1);
  const n = Math.max(1, input.before.length);
  const terms = [...dfWindow]
    .filter(([w, df]) => df >= 2 && !brandWords.has(w))
    .map(([w, df]) => ({ w, score: df * Math.log((n + 1) / ((dfBefore.get(w) ?? 0) + 1) + 1) }))
    .sort((a, b) => b.score - a.score || a.w.localeCompare(b.w))
    .slice(0, 5)
    .map((t) => t.w);
  const countBy = (key: (m: CrisisMention) => string) => {
    const counts = new Map<string, number>();
    for (const m of input.window) counts.set(key(m), (counts.get(key(m)) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  };
  const posts = [...input.window]
    .sort((a, b) => (b.reach ?? -1) - (a.reach ?? -1) || b.at.getTime() - a.at.getTime())
    .slice(0, 3)
    .map((m) => {
      const text = `${m.title ? `${m.title}. ` : ''}${m.text}`.replace(/\s+/g, ' ').trim();
      return {
        mention_id: m.id, url: m.url, source: m.source, author: m.author, reach: m.reach,
        published_at: m.at.toISOString(), excerpt: Array.from(text).length > 200 ? `${Array.from(text).slice(0, 199).join('')}…` : text,
      };
    });
  return {
    why: input.why,
    peak: input.peak,
    top_terms: terms,
    top_sources: countBy((m) => m.source).slice(0, 5).map(([source, count]) => ({ source, count })),
    languages: countBy((m) => m.lang).slice(0, 5).map(([language, count]) => ({ language, count })),
    top_posts: posts,
  };
}
