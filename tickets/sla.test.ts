import { describe, expect, it } from 'vitest';
import {
  addBusinessTime,
  businessHoursSchema,
  businessTimeBetween,
  dueSlaEvents,
  durationSchema,
  shiftDeadlines,
  slaDeadlines,
  slaPolicySchema,
  type BusinessHours,
  type SlaTicketState,
} from './sla.ts';

const H = 3_600_000;
const M = 60_000;
const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString();

// Default week: Mon-Fri 09:00-18:00, weekend closed.
const moscow = businessHoursSchema.parse({ timezone: 'Europe/Moscow' });
const almaty = businessHoursSchema.parse({ timezone: 'Asia/Almaty' });
const berlin = businessHoursSchema.parse({ timezone: 'Europe/Berlin' });
const tashkentLunch = businessHoursSchema.parse({
  timezone: 'Asia/Tashkent',
  days: { mon: ['09:00-13:00', '14:00-18:00'] },
});
// Russia's May 2024 break: Thu 9 May (Victory Day) and Fri 10 May (moved day off), then the weekend.
const moscowMay = businessHoursSchema.parse({ timezone: 'Europe/Moscow', holidays: ['2024-05-09', '2024-05-10'] });
const allDay = '00:00-24:00';
const berlinAlways = businessHoursSchema.parse({
  timezone: 'Europe/Berlin',
  days: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
});

function issuesOf(schema: { safeParse(value: unknown): { error?: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown) {
  return (schema.safeParse(value).error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('addBusinessTime', () => {
  it.each([
    // Moscow is UTC+3: Mon 10:00 MSK = 07:00Z; +4h inside the day → 14:00 MSK = 11:00Z.
    ['within one day', '2024-06-03T07:00:00Z', 4 * H, moscow, '2024-06-03T11:00:00Z'],
    // Mon 07:00 MSK is before opening: counting starts 09:00 MSK, +1h → 10:00 MSK = 07:00Z.
    ['before opening', '2024-06-03T04:00:00Z', 1 * H, moscow, '2024-06-03T07:00:00Z'],
    // Mon 17:00 MSK +1h ends exactly at closing, 18:00 MSK = 15:00Z, not the next morning.
    ['up to closing', '2024-06-03T14:00:00Z', 1 * H, moscow, '2024-06-03T15:00:00Z'],
    // Fri 20:00 MSK (17:00Z) is after closing: the weekend is skipped, Mon 09:00 + 1h = 10:00 MSK = 07:00Z.
    ['over a weekend', '2024-06-07T17:00:00Z', 1 * H, moscow, '2024-06-10T07:00:00Z'],
    // Mon 10:00 MSK + 27h: Mon 8h, Tue 9h (17h), Wed 9h (26h), Thu 1h → Thu 10:00 MSK = 07:00Z.
    ['several days', '2024-06-03T07:00:00Z', 27 * H, moscow, '2024-06-06T07:00:00Z'],
    // Wed 8 May 17:00 MSK + 3h: 1h on Wed; Thu/Fri holidays; weekend; Mon 13 May 09:00 + 2h = 11:00 MSK = 08:00Z.
    ['long weekend with holidays', '2024-05-08T14:00:00Z', 3 * H, moscowMay, '2024-05-13T08:00:00Z'],
    // Starting on Thu 9 May (holiday) 12:00 MSK: nothing counts until Mon 13 May 09:00; +1h = 10:00 MSK = 07:00Z.
    ['start on a holiday', '2024-05-09T09:00:00Z', 1 * H, moscowMay, '2024-05-13T07:00:00Z'],
    // Almaty is UTC+5 (since 2024-03-01): Mon 10:00 local = 05:00Z, +4h → 14:00 local = 09:00Z.
    ['Almaty after the switch to UTC+5', '2024-06-03T05:00:00Z', 4 * H, almaty, '2024-06-03T09:00:00Z'],
    // Thu 29 Feb 17:00 in Almaty was UTC+6 (11:00Z): 1h until 18:00; Fri 1 Mar opens 09:00 at UTC+5 = 04:00Z, +1h = 05:00Z.
    ['Almaty across its offset change', '2024-02-29T11:00:00Z', 2 * H, almaty, '2024-03-01T05:00:00Z'],
    // Tashkent UTC+5, Mon 12:00 local (07:00Z) + 2h: 1h to 13:00, lunch, 14:00 + 1h = 15:00 local = 10:00Z.
    ['a range split by lunch', '2024-06-03T07:00:00Z', 2 * H, tashkentLunch, '2024-06-03T10:00:00Z'],
    // Berlin Fri 29 Mar 17:00 CET (16:00Z) + 4h: 1h Fri; DST starts Sun; Mon 09:00 CEST = 07:00Z, +3h = 10:00Z.
    ['Berlin into summer time', '2024-03-29T16:00:00Z', 4 * H, berlin, '2024-04-01T10:00:00Z'],
    // Berlin Fri 25 Oct 17:00 CEST (15:00Z) + 2h: 1h Fri; DST ends Sun; Mon 09:00 CET = 08:00Z, +1h = 09:00Z.
    ['Berlin into winter time', '2024-10-25T15:00:00Z', 2 * H, berlin, '2024-10-28T09:00:00Z'],
    // Open around the clock in Berlin: Sun 31 Mar has 23 real hours, so Sun 00:00 CET (Sat 23:00Z) + 24h = Mon 01:00 CEST = 23:00Z.
    ['a 23-hour day', '2024-03-30T23:00:00Z', 24 * H, berlinAlways, '2024-03-31T23:00:00Z'],
    // No hours: plain addition, Fri night included.
    ['24/7', '2024-06-07T17:00:00Z', 90 * M, null, '2024-06-07T18:30:00Z'],
  ] as const)('%s', (_name, start, ms, hours, expected) => {
    expect(iso(addBusinessTime(at(start), ms, hours))).toBe(iso(at(expected)));
  });

  it('gives up on a calendar without open time', () => {
    // Built by hand: the schema itself refuses a week with every day closed.
    const closed: BusinessHours = { ...moscow, days: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    expect(() => addBusinessTime(at('2024-06-03T07:00:00Z'), H, closed)).toThrow(/no open time within 400 days/);
  });

  it('refuses a negative duration', () => {
    expect(() => addBusinessTime(at('2024-06-03T07:00:00Z'), -H, null)).toThrow(RangeError);
  });
});

describe('businessTimeBetween', () => {
  it.each([
    // Fri 17:00 MSK → Mon 10:00 MSK: 1h on Friday + 1h on Monday.
    ['over a weekend', '2024-06-07T14:00:00Z', '2024-06-10T07:00:00Z', moscow, 2 * H],
    // Tashkent Mon 12:00 → 15:00 local: the 13:00-14:00 lunch does not count.
    ['around lunch', '2024-06-03T07:00:00Z', '2024-06-03T10:00:00Z', tashkentLunch, 2 * H],
    // Wed 8 May 17:00 MSK → Mon 13 May 11:00 MSK: 1h + holidays + weekend + 2h.
    ['over holidays', '2024-05-08T14:00:00Z', '2024-05-13T08:00:00Z', moscowMay, 3 * H],
    // The whole of Sun 31 Mar in Berlin, open around the clock: 23 hours.
    ['a 23-hour day', '2024-03-30T23:00:00Z', '2024-03-31T22:00:00Z', berlinAlways, 23 * H],
    ['24/7', '2024-06-07T14:00:00Z', '2024-06-10T07:00:00Z', null, 65 * H],
    ['to before from', '2024-06-10T07:00:00Z', '2024-06-07T14:00:00Z', moscow, 0],
    ['to before from, 24/7', '2024-06-10T07:00:00Z', '2024-06-07T14:00:00Z', null, 0],
  ] as const)('%s', (_name, from, to, hours, expected) => {
    expect(businessTimeBetween(at(from), at(to), hours)).toBe(expected);
  });
});

describe('slaDeadlines', () => {
  const policy = slaPolicySchema.parse({});

  it('runs urgent tickets around the clock, whatever the team hours', () => {
    // Fri 20:00 MSK (17:00Z), after closing: 15m / 4h of wall time; warnings at 12m and 3h12m.
    expect(slaDeadlines(at('2024-06-07T17:00:00Z'), 'urgent', policy, moscow)).toEqual({
      firstResponseDueAt: at('2024-06-07T17:15:00Z'),
      firstResponseWarnAt: at('2024-06-07T17:12:00Z'),
      resolutionDueAt: at('2024-06-07T21:00:00Z'),
      resolutionWarnAt: at('2024-06-07T20:12:00Z'),
    });
  });

  it('counts high tickets in business hours, warnings included', () => {
    // Fri 17:30 MSK (14:30Z), 30 open minutes left on Friday.
    // First response 1h: 30m Fri + 30m Mon → Mon 09:30 MSK = 06:30Z; warning 48m: 30m + 18m → 09:18 MSK = 06:18Z.
    // Resolution 9h (one business day): 30m + 8h30m → Mon 17:30 MSK = 14:30Z; warning 7h12m: 30m + 6h42m → 15:42 MSK = 12:42Z.
    expect(slaDeadlines(at('2024-06-07T14:30:00Z'), 'high', policy, moscow)).toEqual({
      firstResponseDueAt: at('2024-06-10T06:30:00Z'),
      firstResponseWarnAt: at('2024-06-10T06:18:00Z'),
      resolutionDueAt: at('2024-06-10T14:30:00Z'),
      resolutionWarnAt: at('2024-06-10T12:42:00Z'),
    });
  });

  it('spreads a normal resolution over several days', () => {
    // Mon 10:00 MSK: 27h → Thu 10:00 MSK = 07:00Z; warning 21h36m: Mon 8h, Tue 9h, Wed 4h36m → Wed 13:36 MSK = 10:36Z.
    const deadlines = slaDeadlines(at('2024-06-03T07:00:00Z'), 'normal', policy, moscow);
    expect(iso(deadlines.resolutionDueAt)).toBe('2024-06-06T07:00:00.000Z');
    expect(iso(deadlines.resolutionWarnAt)).toBe('2024-06-05T10:36:00.000Z');
  });

  it('falls back to 24/7 when the team has no hours', () => {
    // Low: 9h / 45h of wall time from Mon 07:00Z.
    const deadlines = slaDeadlines(at('2024-06-03T07:00:00Z'), 'low', policy, null);
    expect(iso(deadlines.firstResponseDueAt)).toBe('2024-06-03T16:00:00.000Z');
    expect(iso(deadlines.resolutionDueAt)).toBe('2024-06-05T04:00:00.000Z');
  });
});

describe('shiftDeadlines', () => {
  it('moves deadlines still ahead by the open time spent paused', () => {
    // Paused Mon 11:00 MSK (08:00Z), resumed Tue 10:00 MSK (07:00Z): 7h on Mon + 1h on Tue = 8 open hours.
    const shifted = shiftDeadlines(
      {
        firstResponseWarnAt: at('2024-06-03T07:00:00Z'), // Mon 10:00 MSK, passed before the pause: stays
        firstResponseDueAt: at('2024-06-03T12:00:00Z'), // Mon 15:00 MSK + 8h: 3h Mon, Tue 09:00 + 5h = 14:00 MSK = 11:00Z
        resolutionWarnAt: null,
        resolutionDueAt: at('2024-06-05T12:00:00Z'), // Wed 15:00 MSK + 8h: 3h Wed, Thu 09:00 + 5h = 14:00 MSK = 11:00Z
      },
      at('2024-06-03T08:00:00Z'),
      at('2024-06-04T07:00:00Z'),
      moscow,
      true,
    );
    expect(shifted).toEqual({
      firstResponseWarnAt: at('2024-06-03T07:00:00Z'),
      firstResponseDueAt: at('2024-06-04T11:00:00Z'),
      resolutionWarnAt: null,
      resolutionDueAt: at('2024-06-06T11:00:00Z'),
    });
  });

  it('moves by wall time for a policy without business hours', () => {
    // Paused 2h (10:00Z → 12:00Z): the deadline at 10:00Z equals pausedAt, already due, so it stays.
    const shifted = shiftDeadlines(
      { firstResponseDueAt: at('2024-06-03T10:00:00Z'), resolutionDueAt: at('2024-06-03T13:00:00Z') },
      at('2024-06-03T10:00:00Z'),
      at('2024-06-03T12:00:00Z'),
      moscow,
      false,
    );
    expect(shifted).toEqual({ firstResponseDueAt: at('2024-06-03T10:00:00Z'), resolutionDueAt: at('2024-06-03T15:00:00Z') });
  });
});

describe('dueSlaEvents', () => {
  const ticket: SlaTicketState = {
    firstResponseAt: null,
    solvedAt: null,
    firstResponseWarnAt: at('2024-06-03T10:00:00Z'),
    firstResponseDueAt: at('2024-06-03T10:15:00Z'),
    resolutionWarnAt: at('2024-06-03T13:00:00Z'),
    resolutionDueAt: at('2024-06-03T14:00:00Z'),
    warned: [],
    breached: [],
    paused: false,
  };
  const done = at('2024-06-03T10:01:00Z');

  it.each([
    ['before any warning', {}, '09:59', []],
    ['first-response warning', {}, '10:00', ['sla_warning first_response']],
    ['warning already raised', { warned: ['first_response'] }, '10:05', []],
    ['breach after the warning', { warned: ['first_response'] }, '10:20', ['sla_breached first_response']],
    ['breach without a prior warning: only the breach', {}, '10:20', ['sla_breached first_response']],
    ['breach already raised', { warned: ['first_response'], breached: ['first_response'] }, '10:20', []],
    ['answered: only resolution counts', { firstResponseAt: done }, '13:30', ['sla_warning resolution']],
    ['both overdue', {}, '15:00', ['sla_breached first_response', 'sla_breached resolution']],
    ['answered and solved', { firstResponseAt: done, solvedAt: done }, '15:00', []],
    ['paused', { paused: true }, '15:00', []],
    ['no deadlines', { firstResponseWarnAt: null, firstResponseDueAt: null, resolutionWarnAt: null, resolutionDueAt: null }, '15:00', []],
  ] as const)('%s', (_name, patch, time, expected) => {
    const events = dueSlaEvents({ ...ticket, ...patch }, at(`2024-06-03T${time}:00Z`));
    expect(events.map((event) => `${event.kind} ${event.metric}`)).toEqual(expected);
  });
});

describe('schemas', () => {
  it.each([
    ['15m', 15 * M],
    ['4h', 4 * H],
    ['90m', 90 * M],
    ['1h30m', 90 * M],
  ])('reads the duration %s', (text, ms) => {
    expect(durationSchema.parse(text)).toBe(ms);
  });

  it.each(['', '0m', '15', '1d', '1.5h', '30m1h', '1 h', 15])('refuses the duration %j', (value) => {
    expect(issuesOf(durationSchema, value)).toEqual([': must be a duration like 15m, 4h or 1h30m']);
  });

  it('fills the research defaults, one business day being 9h', () => {
    expect(slaPolicySchema.parse({ urgent: { firstResponse: '10m' } })).toEqual({
      urgent: { firstResponse: 10 * M, resolution: 4 * H, businessHours: false },
      high: { firstResponse: 1 * H, resolution: 9 * H, businessHours: true },
      normal: { firstResponse: 4 * H, resolution: 27 * H, businessHours: true },
      low: { firstResponse: 9 * H, resolution: 45 * H, businessHours: true },
    });
  });

  it('refuses a resolution shorter than the first response, and unknown keys', () => {
    expect(issuesOf(slaPolicySchema, { high: { firstResponse: '2h', resolution: '1h' } })).toEqual(['high.resolution: must not be shorter than firstResponse']);
    expect(issuesOf(slaPolicySchema, { critical: {} })[0]).toMatch(/critical/);
  });

  it('defaults to Mon-Fri 09:00-18:00 without holidays', () => {
    const nineToSix = [{ start: 9 * 60, end: 18 * 60 }];
    expect(moscow).toEqual({
      timezone: 'Europe/Moscow',
      days: { mon: nineToSix, tue: nineToSix, wed: nineToSix, thu: nineToSix, fri: nineToSix, sat: [], sun: [] },
      holidays: [],
    });
    expect(businessHoursSchema.parse({ timezone: 'UTC', days: { sat: '10:00-24:00' } }).days.sat).toEqual([{ start: 600, end: 1440 }]);
  });

  it.each([
    [{ timezone: 'Mars/Olympus' }, 'timezone: unknown time zone "Mars/Olympus"'],
    [{ timezone: 'UTC', days: { mon: '9-18' } }, 'days.mon: invalid range "9-18" (expected HH:MM-HH:MM, e.g. 09:00-18:00)'],
    [{ timezone: 'UTC', days: { mon: '18:00-09:00' } }, 'days.mon: range "18:00-09:00" must end after it starts'],
    [{ timezone: 'UTC', days: { mon: '09:00-24:30' } }, 'days.mon: invalid time in range "09:00-24:30"'],
    [{ timezone: 'UTC', days: { mon: ['09:00-13:00', '12:00-18:00'] } }, 'days.mon: ranges must not overlap'],
    [{ timezone: 'UTC', holidays: ['2024-02-30'] }, 'holidays.0: invalid date "2024-02-30" (expected YYYY-MM-DD)'],
    [{ timezone: 'UTC', days: { mon: 'closed', tue: 'closed', wed: 'closed', thu: 'closed', fri: 'closed' } }, ': at least one day must be open'],
  ])('refuses %j', (value, message) => {
    expect(issuesOf(businessHoursSchema, value)).toEqual([message]);
  });
});
