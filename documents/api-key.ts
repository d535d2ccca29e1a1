import { z } from 'zod';
import { API_KEY_SCOPES, type ApiKeySummary } from '../store/api-keys.ts';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from './fields.ts';

// An API key as `earshot apikey list --json` prints it and the admins' API answers it: never the key itself.

export const apiKeySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string().describe('The 8 characters after "esk_" that start the key, to tell keys apart'),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  created_at: timestampSchema,
  last_used_at: nullableTimestampSchema.describe('Written at most once a minute'),
  revoked_at: nullableTimestampSchema.describe('Refused from the next request on, in every process'),
});

export function formatApiKey(k: ApiKeySummary): z.output<typeof apiKeySchema> {
  return {
    id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, created_at: formatTimestamp(k.createdAt),
    last_used_at: formatTimestamp(k.lastUsedAt), revoked_at: formatTimestamp(k.revokedAt),
  };
}
