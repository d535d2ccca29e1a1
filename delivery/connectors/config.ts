import { z } from 'zod';

// Fields every destination's config entry shares.

export const httpUrlSchema = z.url({ protocol: /^https?$/, error: 'Invalid URL (http or https)' });
