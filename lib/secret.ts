import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Schemas whose values are secrets: `redactConfig` hides them, error messages never echo them. Its own module
 * so that crawlers can mark their credentials without importing the config schema.
 */
export const secretRegistry = z.registry<{ secret: true }>();

/** A secret copy of the schema: shared schemas (a URL's) stay plain where they are not secrets. */
export function markSecret<T extends z.ZodType>(schema: T): T {
  const secret = schema.clone() as T;
  secretRegistry.add(secret as z.ZodType, { secret: true });
  return secret;
}

export function isSecretSchema(schema: z.ZodType): boolean {
  return secretRegistry.has(schema);
}

/** Compares a secret (a token, a signature) in constant time: how long it takes says nothing of where they differ. */
export function isSameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
