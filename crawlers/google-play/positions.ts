import { SourceChangedError } from '../errors.ts';

/**
 * A value inside Play's positional JSON with the path that reached it (`[0][3][5][0]`), so that a position that
 * moved or changed type fails naming the full path instead of turning into an empty field.
 */
export interface Position {
  value: unknown;
  path: string;
}

export function rootPosition(value: unknown, path = ''): Position {
  return { value, path };
}

/** The elements of an array position. */
export function listItems(at: Position, what: string): Position[] {
  if (!Array.isArray(at.value)) throw changedAt(at.path, what, 'an array', at.value);
  return at.value.map((value, index) => ({ value, path: `${at.path}[${index}]` }));
}

export function readArray(parent: Position, index: number, what: string): Position {
  const at = childOf(parent, index, what);
  if (!Array.isArray(at.value)) throw changedAt(at.path, what, 'an array', at.value);
  return at;
}

/** Absent (past the end) or null: null. */
export function readOptionalArray(parent: Position, index: number, what: string): Position | null {
  const at = childOf(parent, index, what);
  if (at.value === null || at.value === undefined) return null;
  if (!Array.isArray(at.value)) throw changedAt(at.path, what, 'an array or null', at.value);
  return at;
}

export function readString(parent: Position, index: number, what: string): string {
  const at = childOf(parent, index, what);
  if (typeof at.value !== 'string') throw changedAt(at.path, what, 'a string', at.value);
  return at.value;
}

export function readOptionalString(parent: Position, index: number, what: string): string | null {
  const at = childOf(parent, index, what);
  if (at.value === null || at.value === undefined) return null;
  if (typeof at.value !== 'string') throw changedAt(at.path, what, 'a string or null', at.value);
  return at.value;
}

export function readInteger(parent: Position, index: number, what: string): number {
  const at = childOf(parent, index, what);
  if (!Number.isSafeInteger(at.value)) throw changedAt(at.path, what, 'an integer', at.value);
  return at.value as number;
}

export function readOptionalInteger(parent: Position, index: number, what: string): number | null {
  const at = childOf(parent, index, what);
  if (at.value === null || at.value === undefined) return null;
  if (!Number.isSafeInteger(at.value)) throw changedAt(at.path, what, 'an integer or null', at.value);
  return at.value as number;
}

/** `[seconds, nanos]` as an ISO timestamp; nanos may be absent. */
export function readTimestamp(parent: Position, index: number, what: string): string {
  const at = readArray(parent, index, what);
  const seconds = readInteger(at, 0, `${what} seconds`);
  const nanos = readOptionalInteger(at, 1, `${what} nanos`) ?? 0;
  const date = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
  if (Number.isNaN(date.getTime()) || nanos < 0 || nanos >= 1e9) {
    throw changedAt(at.path, what, '[seconds, nanos] of a real date', at.value);
  }
  return date.toISOString();
}

export function readOptionalTimestamp(parent: Position, index: number, what: string): string | null {
  return readOptionalArray(parent, index, what) === null ? null : readTimestamp(parent, index, what);
}

export function changedAt(path: string, what: string, expected: string, value: unknown): SourceChangedError {
  const where = path === '' ? '(root)' : path;
  return new SourceChangedError(`google-play reviews payload changed at ${where} (${what}): expected ${expected}, got ${describeValue(value)}`, where);
}

function childOf(parent: Position, index: number, what: string): Position {
  if (!Array.isArray(parent.value)) throw changedAt(parent.path, `holder of ${what}`, 'an array', parent.value);
  return { value: parent.value[index], path: `${parent.path}[${index}]` };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (past the end)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `a string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
