import { timeZoneSchema } from '../lib/time-zone.ts';
import { z } from 'zod';
import type { SlaMetric, TicketPriority } from '../store/schema.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
// The warning fires when this share of a target has elapsed.
const WARN_SHARE = 0.8;
// A calendar with no open time for this long is broken: stop instead of walking forever.
const MAX_CLOSED_DAYS = 400;

const DURATION_HINT = 'must be a duration like 15m, 4h or 1h30m';

/** "15m", "4h", "90m", "1h30m" → milliseconds; always positive. */
export const durationSchema = z.string({ error: DURATION_HINT }).transform((text, ctx) => {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(text.trim());
  const ms = match && (match[1] || match[2]) ? (Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * MINUTE : 0;
  if (ms > 0) return ms;
  ctx.addIssue({ code: 'custom', message: DURATION_HINT });
  return z.NEVER;
});

// The research gives resolution targets in business days; one business day counts as 9 business hours (09:00-18:00).
const DEFAULT_TARGETS = {
  urgent: { firstResponse: '15m', resolution: '4h', businessHours: false },
  high: { firstResponse: '1h', resolution: '9h', businessHours: true },
  normal: { firstResponse: '4h', resolution: '27h', businessHours: true },
  low: { firstResponse: '9h', resolution: '45h', businessHours: true },
} as const satisfies Record<TicketPriority, { firstResponse: string; resolution: string; businessHours: boolean }>;

function createTargetSchema(priority: TicketPriority) {
  const defaults = DEFAULT_TARGETS[priority];
  return z
    .strictObject({
      firstResponse: durationSchema.prefault(defaults.firstResponse).meta({ description: `time to the first reply; default ${defaults.firstResponse}` }),
      resolution: durationSchema.prefault(defaults.resolution).meta({ description: `time to solve; default ${defaults.resolution}` }),
      businessHours: z
        .boolean()
        .default(defaults.businessHours)
        .meta({ description: `count only the owning team's open hours (false: 24/7); default ${defaults.businessHours}` }),
    })
    .refine((target) => target.resolution >= target.firstResponse, { message: 'must not be shorter than firstResponse', path: ['resolution'] })
    .prefault({})
    .meta({ description: `SLA targets of ${priority} tickets` });
}

/** The `sla` config key: first-response and resolution targets per ticket priority. */
export const slaPolicySchema = z
  .strictObject({
    urgent: createTargetSchema('urgent'),
    high: createTargetSchema('high'),
    normal: createTargetSchema('normal'),
    low: createTargetSchema('low'),
  })
  .meta({ description: 'SLA targets per priority (durations like 15m, 4h, 1h30m; a business day counts as 9h)' });

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Weekday = (typeof WEEKDAYS)[number];
/** Minutes since the local midnight; `end` may be 1440 (24:00). */
interface OpenRange { start: number; end: number }

function parseRange(text: string): OpenRange | string {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) return `invalid range "${text}" (expected HH:MM-HH:MM, e.g. 09:00-18:00)`;
  const [startHour, startMinute, endHour, endMinute] = match.slice(1).map(Number) as [number, number, number, number];
  if (startHour > 23 || startMinute > 59 || endHour > 24 || endMinute > 59 || (endHour === 24 && endMinute > 0)) {
    return `invalid time in range "${text}"`;
  }
  const range = { start: startHour * 60 + startMinute, end: endHour * 60 + endMinute };
  return range.start < range.end ? range : `range "${text}" must end after it starts`;
}

// One day's hours: "closed", a range, or a list of ranges (a lunch break splits the day).
const daySchema = z
  .union([z.string(), z.array(z.string()).min(1, 'needs at least one range (or write "closed")')])
  .transform((value, ctx) => {
    if (value === 'closed') return [];
    const ranges: OpenRange[] = [];
    for (const text of typeof value === 'string' ? [value] : value) {
      const range = parseRange(text);
      if (typeof range === 'string') ctx.addIssue({ code: 'custom', message: range });
      else ranges.push(range);
    }
    ranges.sort((a, b) => a.start - b.start);
    if (ranges.some((range, i) => i > 0 && range.start < ranges[i - 1]!.end)) ctx.addIssue({ code: 'custom', message: 'ranges must not overlap' });
    return ranges;
  });

function isIsoDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** A team's `hours:` in the config: when its SLA clocks run. */
export const businessHoursSchema = z
  .strictObject({
    timezone: timeZoneSchema
      .meta({ description: 'IANA time zone of the hours and holidays, e.g. Europe/Moscow, Asia/Almaty' }),
    days: z
      .strictObject({
        mon: daySchema.prefault('09:00-18:00'),
        tue: daySchema.prefault('09:00-18:00'),
        wed: daySchema.prefault('09:00-18:00'),
        thu: daySchema.prefault('09:00-18:00'),
        fri: daySchema.prefault('09:00-18:00'),
        sat: daySchema.prefault('closed'),
        sun: daySchema.prefault('closed'),
      })
      .prefault({})
      .meta({ description: 'per weekday: "09:00-18:00", "closed" or a list of ranges; default Mon-Fri 09:00-18:00' }),
    holidays: z
      .array(
        z.string().superRefine((text, ctx) => {
          if (!isIsoDate(text)) ctx.addIssue({ code: 'custom', message: `invalid date "${text}" (expected YYYY-MM-DD)` });
        }),
      )
      .default([])
      .meta({ description: 'closed dates (YYYY-MM-DD, in the time zone), e.g. national holidays' }),
  })
  // Reported on `hours` itself, so the config error reads "…hours: at least one day must be open".
  .refine((hours) => Object.values(hours.days).some((ranges) => ranges.length > 0), { message: 'at least one day must be open' });

export type SlaPolicy = z.output<typeof slaPolicySchema>;
export type BusinessHours = z.output<typeof businessHoursSchema>;
export interface SlaDeadlines {
  firstResponseDueAt: Date;
  resolutionDueAt: Date;
  firstResponseWarnAt: Date;
  resolutionWarnAt: Date;
}
/** Deadlines as a ticket row holds them: any of them may be missing. */
export type SlaDeadlineFields = { [K in keyof SlaDeadlines]?: Date | null };

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall clock at `instant`, written as if it were UTC (whole seconds). */
function readWallClock(zone: string, instant: number): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    const numeric = 'numeric' as const;
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: numeric, month: numeric, day: numeric, hour: numeric, minute: numeric, second: numeric });
    formatters.set(zone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const read = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
  return Date.UTC(read('year'), read('month') - 1, read('day'), read('hour'), read('minute'), read('second'));
}

/** The instant when the zone's wall clock shows `wall`; the offset is re-read once so a DST change in between is honoured. */
function findInstant(zone: string, wall: number): number {
  const guess = wall - (readWallClock(zone, wall) - wall);
  return wall - (readWallClock(zone, guess) - guess);
}

/** The local date of `instant` as its UTC midnight, so days step by plain addition. */
function findLocalDay(zone: string, instant: number): number {
  return Math.floor(readWallClock(zone, instant) / DAY) * DAY;
}

/** The open intervals of one local day as [from, to) instants. */
function listOpenIntervals(hours: BusinessHours, day: number): [number, number][] {
  if (hours.holidays.includes(new Date(day).toISOString().slice(0, 10))) return [];
  const weekday = WEEKDAYS[new Date(day).getUTCDay()] as Weekday;
  return hours.days[weekday].map((range) => [
    findInstant(hours.timezone, day + range.start * MINUTE),
    findInstant(hours.timezone, day + range.end * MINUTE),
  ]);
}

/** `start` plus `ms` of open time; a start outside open hours begins counting at the next opening. Null hours: 24/7. */
export function addBusinessTime(start: Date, ms: number, hours: BusinessHours | null): Date {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`business time must be a non-negative number of ms, got ${ms}`);
  if (hours === null || ms === 0) return new Date(start.getTime() + ms);
  const cursor = start.getTime();
  let left = ms;
  let closedDays = 0;
  for (let day = findLocalDay(hours.timezone, cursor); ; day += DAY) {
    let used = false;
    for (const [open, close] of listOpenIntervals(hours, day)) {
      if (close <= cursor) continue;
      used = true;
      const from = Math.max(open, cursor);
      if (left <= close - from) return new Date(from + left);
      left -= close - from;
    }
    closedDays = used ? 0 : closedDays + 1;
    if (closedDays > MAX_CLOSED_DAYS) throw new Error(`business hours in ${hours.timezone} have no open time within ${MAX_CLOSED_DAYS} days`);
  }
}

/** Open milliseconds in [from, to); 0 when `to` is not after `from`. Null hours: 24/7. */
export function businessTimeBetween(from: Date, to: Date, hours: BusinessHours | null): number {
  const start = from.getTime();
  const end = to.getTime();
  if (end <= start) return 0;
  if (hours === null) return end - start;
  let total = 0;
  for (let day = findLocalDay(hours.timezone, start); findInstant(hours.timezone, day) < end; day += DAY) {
    for (const [open, close] of listOpenIntervals(hours, day)) total += Math.max(0, Math.min(close, end) - Math.max(open, start));
  }
  return total;
}

/** The deadlines of a ticket, fixed when it opens; a policy without business hours ignores `hours`. */
export function slaDeadlines(openedAt: Date, priority: TicketPriority, policy: SlaPolicy, hours: BusinessHours | null): SlaDeadlines {
  const target = policy[priority];
  const clock = target.businessHours ? hours : null;
  const after = (ms: number) => addBusinessTime(openedAt, Math.round(ms), clock);
  return {
    firstResponseDueAt: after(target.firstResponse),
    resolutionDueAt: after(target.resolution),
    firstResponseWarnAt: after(target.firstResponse * WARN_SHARE),
    resolutionWarnAt: after(target.resolution * WARN_SHARE),
  };
}

/** Deadlines after a pause: those still ahead at `pausedAt` move later by the clock time that passed while paused. */
export function shiftDeadlines<T extends SlaDeadlineFields>(
  deadlines: T,
  pausedAt: Date,
  resumedAt: Date,
  hours: BusinessHours | null,
  businessHours: boolean,
): T {
  const clock = businessHours ? hours : null;
  const paused = businessTimeBetween(pausedAt, resumedAt, clock);
  const shifted: SlaDeadlineFields = { ...deadlines };
  for (const key of ['firstResponseDueAt', 'resolutionDueAt', 'firstResponseWarnAt', 'resolutionWarnAt'] as const) {
    const at = deadlines[key];
    if (at && at.getTime() > pausedAt.getTime()) shifted[key] = addBusinessTime(at, paused, clock);
  }
  return shifted as T;
}

/** What the SLA sweep needs to know of a ticket. */
export interface SlaTicketState {
  firstResponseAt: Date | null;
  solvedAt: Date | null;
  firstResponseWarnAt: Date | null;
  firstResponseDueAt: Date | null;
  resolutionWarnAt: Date | null;
  resolutionDueAt: Date | null;
  warned: readonly SlaMetric[];
  breached: readonly SlaMetric[];
  paused: boolean;
}

export interface SlaEvent {
  kind: 'sla_warning' | 'sla_breached';
  metric: SlaMetric;
}

/** The SLA events a sweep should raise at `now`: each at most once, a breach superseding its warning. */
export function dueSlaEvents(ticket: SlaTicketState, now: Date): SlaEvent[] {
  if (ticket.paused) return [];
  const clocks = [
    { metric: 'first_response', doneAt: ticket.firstResponseAt, warnAt: ticket.firstResponseWarnAt, dueAt: ticket.firstResponseDueAt },
    { metric: 'resolution', doneAt: ticket.solvedAt, warnAt: ticket.resolutionWarnAt, dueAt: ticket.resolutionDueAt },
  ] as const;
  const events: SlaEvent[] = [];
  for (const { metric, doneAt, warnAt, dueAt } of clocks) {
    if (doneAt !== null || ticket.breached.includes(metric)) continue;
    if (dueAt !== null && now >= dueAt) events.push({ kind: 'sla_breached', metric });
    else if (warnAt !== null && now >= warnAt && !ticket.warned.includes(metric)) events.push({ kind: 'sla_warning', metric });
  }
  return events;
}
