import { z } from 'zod';

/**
 * Schemas whose values are secrets: `redactConfig` hides them, error messages never echo them. Its own module
 * so that crawlers can mark their credentials without importing the config schema.
 */
export const secretRegistry = z.registry<{ secret: true }>();

export function markSecret<T extends z.ZodType>(schema: T): T {
  secretRegistry.add(schema as z.ZodType, { secret: true });
  return schema;
}

export function isSecretSchema(schema: z.ZodType): boolean {
  return secretRegistry.has(schema);
}
