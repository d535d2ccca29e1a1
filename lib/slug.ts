import { z } from 'zod';

/** The ids a person writes in the config (teams, helpdesks, channels, routing rules): one shape for all. */
export const slugSchema = z.string().regex(/^[a-z0-9_-]+$/, 'must be lowercase letters, digits, "-" or "_"');
