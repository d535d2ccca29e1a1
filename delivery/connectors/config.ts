import { z } from 'zod';

// Fields every destination's config entry shares.

export const destinationIdSchema = z.string().regex(/^[a-z0-9_-]+$/, 'must be lowercase letters, digits, "-" or "_"');

export const httpUrlSchema = z.url({ protocol: /^https?$/, error: 'Invalid URL (http or https)' });
