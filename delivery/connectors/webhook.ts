import { createHmac, timingSafeEqual } from 'node:crypto';
import { request } from 'undici';
import { parseRetryAfter } from '../../lib/backoff.ts';

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
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body));
  return signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export interface WebhookDestination {
  url: string;
  secret: string;
}

export type DeliveryOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryAfterMs: number | null; gone: boolean };

export async function sendWebhook(
  destination: WebhookDestination,
  message: { id: string; body: string },
  opts: { now: Date; timeoutMs: number; userAgent?: string },
): Promise<DeliveryOutcome> {
  const timestamp = Math.floor(opts.now.getTime() / 1000);
  try {
    const res = await request(destination.url, {
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
