// Notification routes: which channel hears an alert, and when. Pure: the caller gives the clock.
//
// A channel hears the events it lists (all by default) that pass its filters (brand, team, priority, source;
// an alert without the field passes). Outside its quiet hours an alert goes out after the channel's group wait
// (for the events that start a card, so an incident opening in the meantime can still hold a ticket's alert
// back); inside them it waits for their end, unless it is critical.

export interface QuietHours {
  timeZone: string;
  /** "HH:MM" local; `from` after `to` spans midnight (22:00-08:00). */
  from: string;
  to: string;
}

export interface ChannelRoute {
  id: string;
  events: readonly string[];
  filters?: {
    brands?: readonly string[] | undefined;
    teams?: readonly string[] | undefined;
    priorities?: readonly string[] | undefined;
    sources?: readonly string[] | undefined;
  } | undefined;
  quietHours?: QuietHours | null | undefined;
  /** Delay of the first message of a card (ticket.created, incident.opened): simultaneous evidence joins it. */
  groupWaitSeconds?: number | undefined;
  /** Least time between two refreshes of one card in this channel. */
  groupIntervalSeconds?: number | undefined;
  /** An unacknowledged incident is announced again, as a new message that pings, this often. */
  repeatIntervalSeconds?: number | undefined;
  digest?: { at: string; timeZone: string } | null | undefined;
}

export interface AlertFacts {
  event: string;
  brand?: string | null;
  team?: string | null;
  priority?: string | null;
  source?: string | null;
  /** Critical alerts pass quiet hours. */
  critical?: boolean;
}

const START_EVENTS = new Set(['ticket.created', 'incident.opened']);

function passes(list: readonly string[] | undefined, value: string | null | undefined): boolean {
  return list === undefined || list.length === 0 || value === null || value === undefined || list.includes(value);
}

/** The channels that hear the alert: subscribed to its event, and its brand, team, priority and source pass. */
export function channelsFor<R extends ChannelRoute>(routes: readonly R[], facts: AlertFacts): R[] {
  return routes.filter((r) => {
    if (!r.events.includes(facts.event)) return false;
    const f = r.filters;
    if (!f) return true;
    return passes(f.brands, facts.brand) && passes(f.teams, facts.team) && passes(f.priorities, facts.priority) && passes(f.sources, facts.source);
  });
}

/**
 * When the alert may go out on the channel: after the group wait, and after the quiet hours unless critical;
 * `quietUntil` says when it is held for the quiet hours (a digest counts those).
 */
export function sendAt(route: ChannelRoute, facts: AlertFacts, now: Date): { at: Date; quietUntil: Date | null } {
  let at = now.getTime();
  if (START_EVENTS.has(facts.event)) at += (route.groupWaitSeconds ?? 0) * 1000;
  const until = !facts.critical && route.quietHours ? quietUntil(route.quietHours, new Date(at)) : null;
  return { at: until ?? new Date(at), quietUntil: until };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** The local date and the minute of the day at `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { date: string; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** The end of the quiet hours `at` falls in; null when it is not in them. */
export function quietUntil(quiet: QuietHours, at: Date): Date | null {
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return null;
  const { minutes } = localTime(at, quiet.timeZone);
  const inside = from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
  if (!inside) return null;
  const left = (to - minutes + 24 * 60) % (24 * 60);
  // Whole minutes: the end is the first instant of the `to` minute.
  const end = new Date(at.getTime() + left * 60_000);
  end.setUTCSeconds(0, 0);
  return end;
}

/**
 * The digest due on the channel at `now`: once its local time passed `at` on a day, that day's digest (the 24 hours
 * before now). The caller's unique message id per channel and date keeps it at one.
 */
export function dueDigest(route: ChannelRoute, now: Date): { date: string; from: Date; to: Date } | null {
  if (!route.digest) return null;
  const { date, minutes } = localTime(now, route.digest.timeZone);
  if (minutes < minutesOf(route.digest.at)) return null;
  return { date, from: new Date(now.getTime() - 24 * 3_600_000), to: now };
}
