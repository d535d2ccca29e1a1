import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { outboundDispatcher } from '../../lib/outbound.ts';
import { z } from 'zod';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { isSameSecret, markSecret } from '../../lib/secret.ts';
import { slugSchema } from '../../lib/slug.ts';
import { httpUrlSchema } from './config.ts';
import type { Connector, DeliveryOutcome } from './types.ts';

// Standard Webhooks: HMAC-SHA256 over "{id}.{timestamp}.{body}", headers webhook-id/-timestamp/-signature.

/** `whsec_` + base64 is the spec's form; any other string is used as raw UTF-8 key bytes. */
export function decodeWebhookSecret(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function signWebhook(secret: string, messageId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', decodeWebhookSecret(secret)).update(`${messageId}.${timestamp}.${body}`);
  return `v1,${mac.digest('base64')}`;
}

/** Lower-cased request headers, as node:http and fastify give them. */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a receiver does: checks the timestamp tolerance and any of the space-separated v1 signatures. */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string,
  opts: { now: Date; toleranceSeconds?: number },
): boolean {
  const id = single(headers['webhook-id']);
  const timestamp = Number(single(headers['webhook-timestamp']));
  const signatures = single(headers['webhook-signature']);
  if (!id || !Number.isInteger(timestamp) || !signatures) return false;
  if (Math.abs(opts.now.getTime() / 1000 - timestamp) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = signWebhook(secret, id, timestamp, body);
  return signatures.split(' ').some((candidate) => isSameSecret(candidate, expected));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export interface WebhookDestination {
  url: string;
  secret: string;
}

export async function sendWebhook(
  destination: WebhookDestination,
  message: { id: string; body: string },
  opts: { now: Date; timeoutMs: number; userAgent?: string },
): Promise<DeliveryOutcome> {
  const timestamp = Math.floor(opts.now.getTime() / 1000);
  try {
    const res = await request(destination.url, {
      dispatcher: outboundDispatcher(),
      method: 'POST',
      body: message.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': opts.userAgent ?? 'earshot-webhooks/0.1',
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(destination.secret, message.id, timestamp, message.body),
      },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    // undici's plain request never follows redirects, and the spec counts a 3xx as a failure.
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return {
      ok: false,
      status: res.statusCode,
      error: `HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`,
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], opts.now.getTime()),
      gone: res.statusCode === 410,
    };
  } catch (err) {
    return { ok: false, status: null, error: (err as Error).message, retryAfterMs: null, gone: false };
  }
}

// Standard Webhooks signs with the base64-decoded bytes after "whsec_"; anything else is used as raw bytes.
export const webhookSecretSchema = markSecret(
  z.string().superRefine((secret, ctx) => {
    if (secret.startsWith('whsec_')) {
      const key = secret.slice('whsec_'.length);
      if (key.length === 0 || key.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
        ctx.addIssue({ code: 'custom', message: 'after "whsec_" the secret must be base64' });
      }
    } else if (secret.length < 16) {
      ctx.addIssue({ code: 'custom', message: 'must be "whsec_" + base64 (Standard Webhooks) or at least 16 characters' });
    }
  }),
);

export const webhookConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('webhook'),
  url: httpUrlSchema,
  secret: webhookSecretSchema,
});

/**
 * The generic Standard Webhooks destination, for a helpdesk of any kind (its events carry the whole ticket
 * document) and for alert channels. It keeps no id of its own: the receiver keys on our ticket id.
 */
export const webhookConnector: Connector<z.output<typeof webhookConfigSchema>> = {
  type: 'webhook',
  configSchema: webhookConfigSchema,
  deliverTicket: (config, delivery, ctx) =>
    sendWebhook(config, { id: delivery.messageId, body: JSON.stringify(delivery.event) }, ctx),
  sendMessage: (config, message, ctx) => sendWebhook(config, { id: message.messageId, body: JSON.stringify(message.body) }, ctx),
  // Machines want every change: each refresh is an event of its own.
  cardUpdates: 'send',
};
