import { cursorSchema, MAX_PAGES_PER_KEYWORD } from './schema.ts';
import type { TelegramCursor, TelegramTarget } from './schema.ts';

/** The position a cursor names; null is the first page of the first stream of the target. */
export function readCursor(cursor: string | null, target: TelegramTarget): TelegramCursor {
  if (cursor === null) {
    return { keyword: target.keywords[0] ?? null, nextKeywords: target.keywords.slice(1), before: null, page: 1 };
  }
  const position = decodeCursor(cursor);
  if (position === null) throw new RangeError(`telegram cursor is not a position: "${cursor.slice(0, 80)}"`);
  return position;
}

export function writeCursor(cursor: TelegramCursor): string {
  return JSON.stringify(cursor);
}

/**
 * Where a fetched page sits, for parse: from the cursor it was fetched with, else from its URL (a recording
 * read back without its cursor is then a lone stream, its keyword the URL's `q`).
 */
export function locatePage(cursor: string | null, pageUrl: string): TelegramCursor {
  const fromCursor = cursor === null ? null : decodeCursor(cursor);
  if (fromCursor) return fromCursor;
  let params = new URLSearchParams();
  try {
    params = new URL(pageUrl).searchParams;
  } catch {
    // Not a URL (a bare file name): nothing to learn from it.
  }
  const before = params.get('before');
  return {
    keyword: params.get('q') || null,
    nextKeywords: [],
    before: before !== null && /^\d+$/.test(before) && Number(before) > 0 ? Number(before) : null,
    page: 1,
  };
}

/** The page older than `before` in the same stream, unless a keyword search has used up its pages. */
export function olderPageCursor(position: TelegramCursor, before: number): string | null {
  if (position.keyword !== null && position.page >= MAX_PAGES_PER_KEYWORD) return null;
  return writeCursor({ ...position, before, page: position.page + 1 });
}

/** The first page of the next keyword search; undefined for a target that reads the whole channel. */
export function nextStreamCursor(position: TelegramCursor): string | null | undefined {
  if (position.keyword === null) return undefined;
  const [next, ...rest] = position.nextKeywords;
  return next === undefined ? null : writeCursor({ keyword: next, nextKeywords: rest, before: null, page: 1 });
}

function decodeCursor(cursor: string): TelegramCursor | null {
  try {
    const checked = cursorSchema.safeParse(JSON.parse(cursor));
    return checked.success ? checked.data : null;
  } catch {
    return null;
  }
}
