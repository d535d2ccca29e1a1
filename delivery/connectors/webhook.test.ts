import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver } from '../../tests/helpers/webhook-receiver.ts';
import { sendWebhook, signWebhook, verifyWebhook } from './webhook.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = new Date('2026-11-22T10:00:00Z');

describe('Standard Webhooks signing', () => {
  it('is accepted by the reference implementation (npm standardwebhooks)', () => {
    const body = JSON.stringify({ type: 'ticket.created', data: { id: '1', text: 'Ромашка — ужас' } });
    const timestamp = Math.floor(NOW.getTime() / 1000);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(SECRET, 'msg_1', timestamp, body) };
    // The reference library checks the timestamp against the real clock, so sign "now" for it.
    const real = Math.floor(Date.now() / 1000);
    const realHeaders = { ...headers, 'webhook-timestamp': String(real), 'webhook-signature': signWebhook(SECRET, 'msg_1', real, body) };
    expect(new Webhook(SECRET).verify(body, realHeaders)).toEqual(JSON.parse(body));
    expect(verifyWebhook(SECRET, headers, body, { now: NOW })).toBe(true);
  });

  it('rejects a changed body, a wrong secret, a stale timestamp and missing headers', () => {
    const body = '{"a":1}';
    const ts = Math.floor(NOW.getTime() / 1000);
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, 'msg_2', ts, body) };
    expect(verifyWebhook(SECRET, headers, '{"a":2}', { now: NOW })).toBe(false);
    expect(verifyWebhook('whsec_' + Buffer.from('another secret!!').toString('base64'), headers, body, { now: NOW })).toBe(false);
    expect(verifyWebhook(SECRET, headers, body, { now: new Date(NOW.getTime() + 301_000) })).toBe(false);
    expect(verifyWebhook(SECRET, { 'webhook-id': 'msg_2' }, body, { now: NOW })).toBe(false);
  });

  it('accepts any one of several space-separated signatures (secret rotation)', () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    const good = signWebhook(SECRET, 'msg_3', ts, 'x');
    const headers = { 'webhook-id': 'msg_3', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,AAAA ${good}` };
    expect(verifyWebhook(SECRET, headers, 'x', { now: NOW })).toBe(true);
  });
});

describe('sendWebhook', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver((path) => (path === '/gone' ? 410 : path === '/busy' ? 503 : 200));
  });
  afterAll(() => receiver.close());

  it('posts the signed body and reports the outcome by status', async () => {
    const ok = await sendWebhook({ url: `${receiver.url}/ok`, secret: SECRET }, { id: 'msg_9', body: '{"x":1}' }, { now: NOW, timeoutMs: 2000 });
    expect(ok).toEqual({ ok: true, status: 200 });
    const hook = receiver.received.at(-1)!;
    expect(hook.headers['content-type']).toBe('application/json');
    expect(verifyWebhook(SECRET, hook.headers, hook.body, { now: NOW })).toBe(true);

    const gone = await sendWebhook({ url: `${receiver.url}/gone`, secret: SECRET }, { id: 'm', body: '{}' }, { now: NOW, timeoutMs: 2000 });
    expect(gone).toMatchObject({ ok: false, status: 410, gone: true });
    const busy = await sendWebhook({ url: `${receiver.url}/busy`, secret: SECRET }, { id: 'm', body: '{}' }, { now: NOW, timeoutMs: 2000 });
    expect(busy).toMatchObject({ ok: false, status: 503, gone: false });
    const refused = await sendWebhook({ url: 'http://127.0.0.1:9/', secret: SECRET }, { id: 'm', body: '{}' }, { now: NOW, timeoutMs: 2000 });
    expect(refused).toMatchObject({ ok: false, status: null, gone: false });
  });
});
