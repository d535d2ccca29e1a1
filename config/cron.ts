interface CronField {
  name: string;
  min: number;
  max: number;
  /** Largest useful step: the distance between the first and the last distinct value. */
  span: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const SECOND: CronField = { name: 'second', min: 0, max: 59, span: 59 };
const MINUTE: CronField = { name: 'minute', min: 0, max: 59, span: 59 };
const HOUR: CronField = { name: 'hour', min: 0, max: 23, span: 23 };
const DAY_OF_MONTH: CronField = { name: 'day of month', min: 1, max: 31, span: 30 };
const MONTH: CronField = { name: 'month', min: 1, max: 12, span: 11, names: MONTH_NAMES };
// 7 is a second spelling of Sunday, so the span of distinct days stays 6.
const DAY_OF_WEEK: CronField = { name: 'day of week', min: 0, max: 7, span: 6, names: WEEKDAY_NAMES };

const FIVE_FIELDS = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK] as const;
const SIX_FIELDS = [SECOND, ...FIVE_FIELDS] as const;

/**
 * Checks a 5-field (minute hour day-of-month month day-of-week) or 6-field (seconds first) cron expression.
 * Returns null when valid, else the reason. node-cron's own `validate` accepts out-of-range steps such as
 * `*\/61`, which would silently run once an hour instead of failing.
 */
export function validateCron(expr: string): string | null {
  const parts = expr.trim().split(/\s+/).filter((part) => part !== '');
  if (parts.length !== 5 && parts.length !== 6) {
    return `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got ${parts.length}`;
  }
  const fields = parts.length === 6 ? SIX_FIELDS : FIVE_FIELDS;
  for (const [index, part] of parts.entries()) {
    const field = fields[index];
    if (!field) continue;
    const reason = checkField(part, field);
    if (reason) return reason;
  }
  return null;
}

function checkField(text: string, field: CronField): string | null {
  for (const item of text.split(',')) {
    if (item === '') return `empty list item in ${field.name} "${text}"`;
    const reason = checkItem(item, field);
    if (reason) return reason;
  }
  return null;
}

function checkItem(item: string, field: CronField): string | null {
  const [base = '', step, ...rest] = item.split('/');
  if (rest.length > 0) return `${field.name} "${item}" has more than one step`;
  if (step !== undefined) {
    if (!/^\d+$/.test(step)) return `${field.name} step "${step}" is not a number`;
    const n = Number(step);
    if (n < 1 || n > field.span) return `${field.name} step ${n} is out of range 1-${field.span}`;
    // node-cron reads "5/15" as the value "5/15", not as Quartz's "from 5 every 15".
    if (base !== '*' && !base.includes('-')) return `${field.name} step needs "*" or a range before it: "${item}"`;
  }
  if (base === '*') return null;
  const bounds = base.split('-');
  if (bounds.length > 2) return `${field.name} range "${base}" has more than two ends`;
  for (const bound of bounds) {
    const reason = checkValue(bound, field);
    if (reason) return reason;
  }
  return null;
}

function checkValue(text: string, field: CronField): string | null {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max) return `${field.name} ${n} is out of range ${field.min}-${field.max}`;
    return null;
  }
  if (field.names?.includes(text.toLowerCase())) return null;
  const allowed = field.names ? `a number ${field.min}-${field.max} or ${field.names[0]}-${field.names.at(-1)}` : `a number ${field.min}-${field.max}`;
  return `${field.name} "${text}" is not ${allowed}`;
}
