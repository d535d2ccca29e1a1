import { z } from 'zod';

/** Cursors are opaque to clients: base64url of a small JSON object. */
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A query parameter that decodes to the cursor's fields, or fails validation as a 400. */
export function cursorParam<T extends z.ZodObject>(shape: T) {
  return z
    .string()
    .max(512)
    .transform((raw, ctx): z.output<T> => {
      const decoded = decodeCursor(raw, shape);
      if (decoded === null) {
        ctx.addIssue({ code: 'custom', message: 'malformed cursor; pass next_cursor from a previous page' });
        return z.NEVER;
      }
      return decoded;
    })
    .describe('Opaque cursor from next_cursor of a previous page');
}

function decodeCursor<T extends z.ZodObject>(raw: string, shape: T): z.output<T> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = shape.safeParse(json);
  return parsed.success ? parsed.data : null;
}

const INT8_MAX = 9223372036854775807n;

export const bigIdString = z
  .string()
  .regex(/^[0-9]{1,19}$/)
  // zod 4 runs this refine even after the regex failed: BigInt() of a non-number must not throw (a 500).
  .refine((value) => /^[0-9]{1,19}$/.test(value) && BigInt(value) <= INT8_MAX, 'out of range');
