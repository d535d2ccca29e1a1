import { cursorSchema } from './schema.ts';
import type { VkCursor } from './schema.ts';

/** Our own cursor read back; anything else is a bug in the caller, not a change of VK. */
export function readCursor(cursor: string): VkCursor {
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new RangeError(`vk cursor must be JSON, got ${JSON.stringify(cursor.slice(0, 40))}`);
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) throw new RangeError(`vk cursor is not one of ours: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** A cursor as the JSON runCrawl carries from page to page (absent fields left out). */
export function writeCursor(cursor: VkCursor): string {
  return JSON.stringify(cursor);
}
