import { describe, expect, it } from 'vitest';
import { validateCron } from './cron.ts';
import { checkSchedule } from './schema.ts';

describe('validateCron', () => {
  it.each([
    '*/30 * * * *',
    '0 */4 * * *',
    '5 4 * * sun',
    '0 0 31 2 *',
    '* * * * *',
    '0 9-18 * * mon-fri',
    '0 9-18 * * MON-FRI',
    '0,15,30,45 * * * *',
    '0 8-20/2 * * *',
    '0 0 1 jan,jul *',
    '0 0 * * 7',
    '0 0 * * 0-7',
    '30 */10 * * * *',
    '0 22-2 * * *',
    '  0   12  * *  *  ',
    '59 23 31 12 6',
  ])('accepts %j', (expr) => {
    expect(validateCron(expr)).toBeNull();
  });

  it.each([
    ['*/61 * * * *', 'minute step 61 is out of range 1-59'],
    ['*/0 * * * *', 'minute step 0 is out of range 1-59'],
    ['60 * * * *', 'minute 60 is out of range 0-59'],
    ['* * * *', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got 4'],
    ['* * * * * * *', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got 7'],
    ['', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got 0'],
    ['0 24 * * *', 'hour 24 is out of range 0-23'],
    ['0 0 0 * *', 'day of month 0 is out of range 1-31'],
    ['0 0 32 * *', 'day of month 32 is out of range 1-31'],
    ['0 0 * 13 *', 'month 13 is out of range 1-12'],
    ['0 0 * * 8', 'day of week 8 is out of range 0-7'],
    ['0 0 * * sunday', 'day of week "sunday" is not a number 0-7 or sun-sat'],
    ['0 0 * foo *', 'month "foo" is not a number 1-12 or jan-dec'],
    ['0 0 * * mon-', 'day of week "" is not a number 0-7 or sun-sat'],
    ['0 */x * * *', 'hour step "x" is not a number'],
    ['0 */24 * * *', 'hour step 24 is out of range 1-23'],
    ['5/15 * * * *', 'minute step needs "*" or a range before it: "5/15"'],
    ['0 1-2-3 * * *', 'hour range "1-2-3" has more than two ends'],
    ['0 */2/3 * * *', 'hour "*/2/3" has more than one step'],
    ['0,,5 * * * *', 'empty list item in minute "0,,5"'],
    ['60 * * * * *', 'second 60 is out of range 0-59'],
    ['0 * * * * */7', 'day of week step 7 is out of range 1-6'],
  ])('rejects %j', (expr, reason) => {
    expect(validateCron(expr)).toBe(reason);
  });
});

describe('checkSchedule', () => {
  it('wraps the reason for config messages', () => {
    expect(checkSchedule('*/61 * * * *')).toBe('invalid cron expression "*/61 * * * *" (minute step 61 is out of range 1-59)');
    expect(checkSchedule('0 */4 * * *')).toBeNull();
  });

  it('also refuses what node-cron refuses to schedule, such as a day that never comes', () => {
    expect(validateCron('0 0 31 2 *')).toBeNull();
    expect(checkSchedule('0 0 31 2 *')).toMatch(/^invalid cron expression "0 0 31 2 \*" \(.*impossible day of month/);
  });
});
