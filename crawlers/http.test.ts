import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixtureServer } from '../tests/helpers/fixture-server.ts';
import type { FixtureRoutes, FixtureServer } from '../tests/helpers/fixture-server.ts';
import { BlockedError, RateLimitedError, SourceUnavailableError } from './errors.ts';
import {
  DEFAULT_USER_AGENT,
  charsetFromContentType,
  createHttpClient,
  decodeBody,
  redactUrl,
} from './http.ts';
import type { HttpClientOptions, HttpExchange, PoliteHttpClient } from './http.ts';
import { catchAsync } from '../tests/helpers/catch-error.ts';
import { createFakeClock } from '../tests/helpers/fake-clock.ts';

const START = Date.parse('2025-03-01T12:00:00Z');


const servers: FixtureServer[] = [];
const clients: PoliteHttpClient[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function serve(routes: FixtureRoutes): Promise<FixtureServer> {
  const server = await startFixtureServer(routes);
  servers.push(server);
  return server;
}

function makeClient(clock: ReturnType<typeof createFakeClock>, extra: HttpClientOptions = {}): PoliteHttpClient {
  // No host spacing unless a test asks for it, so retry tests see only their backoff sleeps.
  const client = createHttpClient({ now: clock.now, sleep: clock.sleep, random: () => 0, perHostPerSecond: 0, ...extra });
  clients.push(client);
  return client;
}

const russian = 'Отзывы о банке: «всё хорошо»';
const portuguese = 'Mãe de utente é a nova presidente da Raríssimas';

describe('decodeBody', () => {
  it('uses the charset of the Content-Type header', () => {
    const bytes = new TextEncoder().encode(russian);
    expect(decodeBody(bytes, 'text/plain; charset=UTF-8')).toBe(russian);
    const cp1251 = encodeWindows1251(russian);
    expect(decodeBody(cp1251, 'application/rss+xml; charset="windows-1251"')).toBe(russian);
  });

  it('reads a windows-1251 XML prolog when the header has no charset', () => {
    const xml = `<?xml version="1.0" encoding="windows-1251"?><rss><title>${russian}</title></rss>`;
    const decoded = decodeBody(encodeWindows1251(xml), 'application/xml');
    expect(decoded).toContain(`<title>${russian}</title>`);
  });

  it('reads an iso-8859-1 XML prolog', () => {
    const xml = `<?xml version='1.0' encoding='ISO-8859-1'?>\n<rss><title>${portuguese}</title></rss>`;
    const bytes = new Uint8Array(Buffer.from(xml, 'latin1'));
    expect(decodeBody(bytes, null)).toContain(portuguese);
  });

  it('defaults to utf-8, and a header charset wins over the prolog', () => {
    const utf8 = new TextEncoder().encode(`<?xml version="1.0"?><t>${russian}</t>`);
    expect(decodeBody(utf8, null)).toBe(`<?xml version="1.0"?><t>${russian}</t>`);
    const latin1 = new Uint8Array(Buffer.from(`<?xml version="1.0" encoding="utf-8"?><t>${portuguese}</t>`, 'latin1'));
    expect(decodeBody(latin1, 'text/xml; charset=iso-8859-1')).toContain(portuguese);
  });

  it('lets a byte-order mark win and falls back to utf-8 on an unknown label', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(russian)]);
    expect(decodeBody(withBom, 'text/xml; charset=windows-1251')).toBe(russian);
    expect(decodeBody(new TextEncoder().encode(russian), 'text/xml; charset=x-no-such-charset')).toBe(russian);
  });

  it('parses charset parameters', () => {
    expect(charsetFromContentType('text/html;charset=KOI8-R')).toBe('KOI8-R');
    expect(charsetFromContentType('text/html')).toBeNull();
    expect(charsetFromContentType(null)).toBeNull();
  });
});

describe('createHttpClient', () => {
  it('decodes a windows-1251 feed served without a header charset and sends the User-Agent', async () => {
    const xml = `<?xml version="1.0" encoding="windows-1251"?><rss><title>${russian}</title></rss>`;
    const server = await serve({
      '/feed.xml': { headers: { 'content-type': 'application/rss+xml' }, body: Buffer.from(encodeWindows1251(xml)) },
    });
    const client = makeClient(createFakeClock(START));
    const res = await client.get(`${server.url}/feed.xml`);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/rss+xml');
    expect(res.body).toContain(russian);
    expect(res.url).toBe(`${server.url}/feed.xml`);
    expect(server.requests[0]?.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
  });

  it('lets the caller override the User-Agent and pass headers', async () => {
    const server = await serve({ '/': { body: 'ok' } });
    const client = makeClient(createFakeClock(START), { userAgent: 'custom/1' });
    await client.get(`${server.url}/`, { headers: { 'Accept-Language': 'ru' } });
    expect(server.requests[0]?.headers['user-agent']).toBe('custom/1');
    expect(server.requests[0]?.headers['accept-language']).toBe('ru');
  });

  it('waits the Retry-After of a 429 and then succeeds', async () => {
    const server = await serve({
      '/reviews': [{ status: 429, headers: { 'retry-after': '2' }, body: 'slow down' }, { body: 'page' }],
    });
    const clock = createFakeClock(START);
    // Default politeness (1 request/s) on: the 2 s wait already covers the host spacing.
    const res = await makeClient(clock, { perHostPerSecond: 1 }).get(`${server.url}/reviews`);
    expect(res.body).toBe('page');
    expect(clock.sleeps).toEqual([2_000]);
    expect(server.requests).toHaveLength(2);
  });

  it('reads a Retry-After given as an HTTP date', async () => {
    const server = await serve({
      '/r': [{ status: 503, headers: { 'retry-after': new Date(START + 7_000).toUTCString() } }, { body: 'ok' }],
    });
    const clock = createFakeClock(START);
    await makeClient(clock).get(`${server.url}/r`);
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('turns an exhausted 503 into SourceUnavailableError after exponential backoff', async () => {
    const server = await serve({ '/down': { status: 503, body: 'maintenance' } });
    const clock = createFakeClock(START);
    const err = await catchAsync(makeClient(clock).get(`${server.url}/down`));
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect((err as SourceUnavailableError).status).toBe(503);
    expect(server.requests).toHaveLength(4);
    // random() = 0 keeps the fixed half of each backoff step: 1 s, 2 s, 4 s ceilings.
    expect(clock.sleeps).toEqual([500, 1_000, 2_000]);
  });

  it('turns an exhausted 429 into RateLimitedError with the Retry-After', async () => {
    const server = await serve({ '/busy': { status: 429, headers: { 'retry-after': '30' } } });
    const clock = createFakeClock(START);
    const err = await catchAsync(makeClient(clock, { retries: 2 }).get(`${server.url}/busy`));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(30_000);
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([30_000, 30_000]);
  });

  it('does not sleep through a Retry-After beyond the cap', async () => {
    const server = await serve({ '/busy': { status: 429, headers: { 'retry-after': '3600' } } });
    const clock = createFakeClock(START);
    const err = await catchAsync(makeClient(clock).get(`${server.url}/busy`));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(3_600_000);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('maps 403 to BlockedError and other 4xx to SourceUnavailableError, without retrying', async () => {
    const server = await serve({ '/captcha': { status: 403, body: 'denied' }, '/gone': { status: 404 } });
    const client = makeClient(createFakeClock(START));
    expect(await catchAsync(client.get(`${server.url}/captcha`))).toBeInstanceOf(BlockedError);
    const notFound = await catchAsync(client.get(`${server.url}/gone`));
    expect(notFound).toBeInstanceOf(SourceUnavailableError);
    expect((notFound as SourceUnavailableError).status).toBe(404);
    expect(server.requests).toHaveLength(2);
  });

  it('returns the error statuses a caller reads itself, once, but still calls a block page a block', async () => {
    const server = await serve({
      '/private': { status: 403, headers: { 'content-type': 'application/json' }, body: '{"reason": "private"}' },
      '/busy': { status: 503, body: 'maintenance' },
      '/captcha': { status: 403, body: '<html><div class="g-recaptcha"></div></html>' },
    });
    const clock = createFakeClock(START);
    const client = makeClient(clock);
    const accepted = await client.get(`${server.url}/private`, { acceptStatuses: [403, 503] });
    expect(accepted).toMatchObject({ status: 403, body: '{"reason": "private"}', contentType: 'application/json' });
    expect((await client.get(`${server.url}/busy`, { acceptStatuses: [503] })).status).toBe(503);
    expect(await catchAsync(client.get(`${server.url}/captcha`, { acceptStatuses: [403] }))).toBeInstanceOf(BlockedError);
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([]);
  });

  it('takes the wait of a 429 without Retry-After from the caller\'s reading of the source\'s headers', async () => {
    const server = await serve({ '/busy': { status: 429, headers: { 'x-wait': '90' } } });
    const clock = createFakeClock(START);
    const waitMs = (headers: Record<string, string>) => (headers['x-wait'] ? Number(headers['x-wait']) * 1000 : null);
    const err = await catchAsync(makeClient(clock, { retries: 1 }).get(`${server.url}/busy`, { rateLimitWaitMs: waitMs }));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(90_000);
    expect(clock.sleeps).toEqual([90_000]);
  });

  it('retries a dropped connection', async () => {
    const server = await serve({
      '/flaky': [(req) => void req.socket.destroy(), { body: 'second try' }],
    });
    const clock = createFakeClock(START);
    const res = await makeClient(clock).get(`${server.url}/flaky`);
    expect(res.body).toBe('second try');
    expect(clock.sleeps).toEqual([500]);
  });

  it('spaces requests to the same host and lets other hosts run independently', async () => {
    const a = await serve({ '/': { body: 'a' } });
    const b = await serve({ '/': { body: 'b' } });
    const clock = createFakeClock(START);
    const client = makeClient(clock, { perHostPerSecond: 2 });

    await client.get(`${a.url}/`);
    await client.get(`${b.url}/`);
    expect(clock.sleeps).toEqual([]);

    await client.get(`${a.url}/`);
    expect(clock.sleeps).toEqual([500]);
    await client.get(`${a.url}/`);
    expect(clock.sleeps).toEqual([500, 500]);

    client.setHostRate(new URL(b.url).host, 0.25);
    await client.get(`${b.url}/`);
    expect(clock.sleeps).toEqual([500, 500]);
    await client.get(`${b.url}/`);
    expect(clock.sleeps).toEqual([500, 500, 4_000]);
  });

  it('spaces concurrent requests to one host one interval apart', async () => {
    const a = await serve({ '/': { body: 'a' } });
    const clock = createFakeClock(START);
    const client = makeClient(clock, { hostRates: { '127.0.0.1': 1 } });
    await Promise.all([client.get(`${a.url}/`), client.get(`${a.url}/`), client.get(`${a.url}/`)]);
    expect(clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(2_000);
    expect(a.requests).toHaveLength(3);
  });

  it('turns a timeout into SourceUnavailableError', async () => {
    const server = await serve({ '/hang': () => undefined });
    const client = makeClient(createFakeClock(START), { totalTimeoutMs: 100, retries: 1 });
    const err = await catchAsync(client.get(`${server.url}/hang`));
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect((err as Error).message).toMatch(/timed out/);
    expect(server.requests).toHaveLength(2);
  });

  it('follows redirects and reports the final URL', async () => {
    const server = await serve({
      '/old': { status: 301, headers: { location: '/new?x=1' } },
      '/new': { body: 'moved here' },
    });
    const res = await makeClient(createFakeClock(START)).get(`${server.url}/old`);
    expect(res.body).toBe('moved here');
    expect(res.url).toBe(`${server.url}/new?x=1`);
  });

  it('decompresses gzip and caps the body size', async () => {
    const server = await serve({
      '/gz': { headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' }, body: gzipSync(russian) },
      '/big': { body: 'x'.repeat(1_000) },
    });
    const client = makeClient(createFakeClock(START), { maxBodyBytes: 500 });
    expect((await client.get(`${server.url}/gz`)).body).toBe(russian);
    const err = await catchAsync(client.get(`${server.url}/big`));
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect(server.requests.filter((r) => r.path === '/big')).toHaveLength(1);
  });

  it('stops on the caller abort signal without retrying', async () => {
    const server = await serve({ '/busy': { status: 503 } });
    const controller = new AbortController();
    const client = createHttpClient({
      sleep: async () => controller.abort(new Error('shutting down')),
      now: () => START,
    });
    clients.push(client);
    const err = await catchAsync(client.get(`${server.url}/busy`, { signal: controller.signal }));
    expect((err as Error).message).toBe('shutting down');
    expect(server.requests).toHaveLength(1);
  });
});

describe('createHttpClient, beyond GET', () => {
  it('posts a form body and follows a 303 with a GET, as browsers do', async () => {
    const server = await serve({
      '/rpc': (_req, res, body) => {
        res.writeHead(303, { location: `/result?echo=${encodeURIComponent(body)}` }).end();
      },
      '/result': { body: 'done' },
    });
    const client = makeClient(createFakeClock(START));
    const res = await client.request(`${server.url}/rpc`, {
      method: 'POST',
      body: 'f.req=%5B1%5D',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    });
    expect(res.body).toBe('done');
    expect(server.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/rpc', 'f.req=%5B1%5D'],
      ['GET', '/result', ''],
    ]);
    expect(server.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(server.requests[1]?.headers['content-type']).toBeUndefined();
    expect(server.requests[1]?.query.echo).toBe('f.req=%5B1%5D');
  });

  it('spaces two crawlers that reach one host on the same slots, each at its own rate', async () => {
    const server = await serve({ '/': { body: 'ok' } });
    const clock = createFakeClock(START);
    const client = makeClient(clock);
    const slow = client.withRate(0.5);
    const fast = client.withRate(4);
    await slow.get(`${server.url}/`);
    // The slow crawler reserved the host for 2 s: the fast one waits behind it, then keeps its own pace.
    await fast.get(`${server.url}/`);
    await fast.get(`${server.url}/`);
    expect(clock.sleeps).toEqual([2_000, 250]);
  });

  it('takes a rate-limited account\'s slots from the given reserver, which all processes share', async () => {
    const server = await serve({ '/': { body: 'ok' } });
    const clock = createFakeClock(START);
    const asked: [string, number][] = [];
    // Another process took the next slot: this one is told to wait 600 ms, then none.
    const waits = [600, 0];
    const vk = makeClient(clock).withRate(3, { reserveSlot: async (host, intervalMs) => (asked.push([host, intervalMs]), waits.shift()!) });
    await vk.get(`${server.url}/`);
    await vk.get(`${server.url}/`);
    const host = new URL(server.url).host;
    expect(asked).toEqual([[host, 1000 / 3], [host, 1000 / 3]]);
    expect(clock.sleeps).toEqual([600]);
  });

  it('treats a captcha served with 503 as a block, at once, not as an outage to retry', async () => {
    const sorry = '<html><body>Our systems have detected unusual traffic from your computer network.</body></html>';
    const server = await serve({
      '/reviews': { status: 503, headers: { 'content-type': 'text/html' }, body: sorry },
      '/busy': { status: 503, headers: { 'content-type': 'text/html' }, body: '<html>Service Unavailable</html>' },
    });
    const clock = createFakeClock(START);
    const client = makeClient(clock, { retries: 2 });
    const blocked = await catchAsync(client.get(`${server.url}/reviews`));
    expect(blocked).toBeInstanceOf(BlockedError);
    expect((blocked as Error).message).toMatch(/HTTP 503, Google "unusual traffic" page/);
    expect(server.requests.filter((r) => r.path === '/reviews')).toHaveLength(1);
    expect(await catchAsync(client.get(`${server.url}/busy`))).toBeInstanceOf(SourceUnavailableError);
    expect(server.requests.filter((r) => r.path === '/busy')).toHaveLength(3);
  });

  it('reads a compressed error page for block markers, and an undecodable one as an outage', async () => {
    const captcha = gzipSync('<html><head><title>Captcha</title></head><body>проверка</body></html>');
    const server = await serve({
      '/gz': { status: 429, headers: { 'content-encoding': 'gzip', 'content-type': 'text/html' }, body: captcha },
      '/broken': { status: 503, headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' },
    });
    const client = makeClient(createFakeClock(START), { retries: 0 });
    const blocked = await catchAsync(client.get(`${server.url}/gz`));
    expect(blocked).toBeInstanceOf(BlockedError);
    expect((blocked as Error).message).toMatch(/HTTP 429, captcha or access-denied page/);
    const outage = await catchAsync(client.get(`${server.url}/broken`));
    expect(outage).toBeInstanceOf(SourceUnavailableError);
    expect((outage as SourceUnavailableError).status).toBe(503);
  });

  it('keeps credentials in query strings out of error messages', async () => {
    const server = await serve({ '/method/newsfeed.search': { status: 404 } });
    const client = makeClient(createFakeClock(START));
    const err = await catchAsync(client.get(`${server.url}/method/newsfeed.search?q=acme&access_token=vk1.a.SECRET&v=5.199`));
    expect((err as Error).message).toContain('access_token=***');
    expect((err as Error).message).not.toContain('SECRET');
    expect(redactUrl('https://x.test/r?key=abc&locale=ru_KZ')).toBe('https://x.test/r?key=***&locale=ru_KZ');
    expect(redactUrl('https://user:pw@x.test/r?q=1')).toBe('https://x.test/r?q=1');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('reports every exchange, errors and retries included, for record mode', async () => {
    const server = await serve({ '/feed': [{ status: 429, headers: { 'retry-after': '1' }, body: 'slow down' }, { body: 'items' }] });
    const seen: HttpExchange[] = [];
    const client = makeClient(createFakeClock(START), { onExchange: (ex) => void seen.push(ex) });
    await client.get(`${server.url}/feed`);
    expect(seen.map((ex) => [ex.method, ex.status, ex.body])).toEqual([
      ['GET', 429, 'slow down'],
      ['GET', 200, 'items'],
    ]);
  });
});

function encodeWindows1251(text: string): Uint8Array {
  // Build the reverse table from TextDecoder so the test does not hand-code the code page.
  const decoder = new TextDecoder('windows-1251');
  const table = new Map<string, number>();
  for (let byte = 0; byte < 256; byte++) table.set(decoder.decode(new Uint8Array([byte])), byte);
  return new Uint8Array(
    [...text].map((ch) => {
      const byte = table.get(ch);
      if (byte === undefined) throw new Error(`not in windows-1251: ${ch}`);
      return byte;
    }),
  );
}
