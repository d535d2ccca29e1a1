import type { z } from 'zod';
import { createConfigSchema, type ConfigCrawlers, type EarshotConfig } from './schema.ts';
import { isSecretSchema } from '../lib/secret.ts';

export const REDACTED = '***';

/**
 * A copy of the config fit for logs: every value whose schema is marked secret (`markSecret`) becomes "***",
 * including secrets inside a crawler's own target params.
 */
export function redactConfig(config: EarshotConfig, opts: { crawlers: ConfigCrawlers }): EarshotConfig {
  const crawlers = opts.crawlers;
  const redacted = redactValue(createConfigSchema(crawlers), config) as EarshotConfig;
  return {
    ...redacted,
    credentials: Object.fromEntries(
      Object.entries(redacted.credentials).map(([source, value]) => {
        const schema = Object.hasOwn(crawlers, source) ? crawlers[source]?.credentials?.schema : undefined;
        // Credentials of a source nobody describes are hidden whole: the safe side.
        return [source, schema ? redactValue(schema, value) : REDACTED];
      }),
    ),
    targets: redacted.targets.map((target) => {
      const crawler = Object.hasOwn(crawlers, target.source) ? crawlers[target.source] : undefined;
      return crawler ? { ...target, params: redactValue(crawler.target, target.params) as Record<string, unknown> } : target;
    }),
  };
}

/** Walks a value alongside its schema and replaces the values of secret schemas. */
export function redactValue(schema: z.core.$ZodType, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (isSecretSchema(schema as z.ZodType)) return REDACTED;
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const child = (key: string) => def[key] as z.core.$ZodType;
  switch (def.type) {
    case 'object': {
      if (!isPlainObject(value)) return value;
      const shape = def.shape as Record<string, z.core.$ZodType>;
      const copy: Record<string, unknown> = { ...value };
      for (const [key, fieldSchema] of Object.entries(shape)) {
        if (Object.hasOwn(copy, key)) copy[key] = redactValue(fieldSchema, copy[key]);
      }
      return copy;
    }
    case 'array':
      return Array.isArray(value) ? value.map((item) => redactValue(child('element'), item)) : value;
    case 'record': {
      if (!isPlainObject(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(child('valueType'), item)]));
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return redactValue(child('innerType'), value);
    case 'pipe':
      return redactValue(child('out'), redactValue(child('in'), value));
    case 'lazy':
      return redactValue((def.getter as () => z.core.$ZodType)(), value);
    // Over-redacting is the safe side: a value is hidden if any branch marks it secret, unless the union says
    // which branch it is (a channel's `type`): a webhook's url is no secret because a Slack url is.
    case 'union': {
      const options = def.options as z.core.$ZodType[];
      const key = def.discriminator as string | undefined;
      const chosen = key !== undefined && isPlainObject(value) ? options.filter((option) => branchTakes(option, key, value[key])) : options;
      return (chosen.length > 0 ? chosen : options).reduce<unknown>((current, option) => redactValue(option, current), value);
    }
    case 'intersection':
      return redactValue(child('right'), redactValue(child('left'), value));
    default:
      return value;
  }
}

/** Whether a discriminated union's branch is the one for this discriminator value. */
function branchTakes(option: z.core.$ZodType, key: string, discriminator: unknown): boolean {
  const shape = (option._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape;
  const field = shape?.[key] as z.ZodType | undefined;
  return field !== undefined && field.safeParse(discriminator).success;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
