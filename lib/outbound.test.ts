import type { LookupAddress } from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TargetUnusableError } from '../crawlers/errors.ts';
import { createHttpClient } from '../crawlers/http.ts';
import { sendWebhook } from '../delivery/connectors/webhook.ts';
import { startFixtureServer, type FixtureServer } from '../tests/helpers/fixture-server.ts';
import { addressRefusal, guardedLookup, hostRefusal, OutboundAddressError, outboundPolicy, setOutboundPolicy } from './outbound.ts';

const open = { allowPrivate: true };
const closed = { allowPrivate: false };

describe('the outbound policy', () => {
  it('never reaches link-local or cloud metadata addresses, in any spelling', () => {
    for (const ip of ['169.254.169.254', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '100.100.100.200', 'fd00:ec2::254']) {
      expect(addressRefusal(ip, open), ip).toMatch(/cloud metadata address: earshot never connects there$/);
    }
    for (const ip of ['169.254.1.1', 'fe80::1', '0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255']) {
      expect(addressRefusal(ip, open), ip).toMatch(/link-local, multicast or reserved address/);
    }
    expect(hostRefusal('metadata.google.internal', open)).toMatch(/cloud metadata service/);
    expect(hostRefusal('[::ffff:169.254.169.254]', open)).toBe('::ffff:169.254.169.254 (169.254.169.254) is a cloud metadata address: earshot never connects there');
  });

  it('reaches private and loopback addresses only when allowed, and public ones always', () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '100.64.0.1', '::1', 'fd12::1', '::ffff:10.0.0.1']) {
      expect(addressRefusal(ip, closed), ip).toMatch(/private or loopback address: refused unless the config says network: \{ allowPrivate: true \}$/);
      expect(addressRefusal(ip, open), ip).toBeNull();
    }
    for (const ip of ['93.184.216.34', '172.32.0.1', '2a00:1450:4010::66', '8.8.8.8']) expect(addressRefusal(ip, closed), ip).toBeNull();
    expect(hostRefusal('localhost', closed)).toMatch(/this machine/);
    expect(hostRefusal('api.localhost', closed)).toMatch(/this machine/);
    expect(hostRefusal('localhost', open)).toBeNull();
    expect(hostRefusal('2gis.kz', closed)).toBeNull(); // judged when it resolves
  });

  it('judges a name by what it resolves to, keeping only the allowed addresses', async () => {
    const resolving = (addresses: LookupAddress[]) =>
      ((_host: string, _opts: unknown, cb: (err: null, a: LookupAddress[]) => void) => cb(null, addresses)) as never;
    const look = (addresses: LookupAddress[], policy: typeof open, all: boolean) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        guardedLookup(() => policy, resolving(addresses))('feed.example', { all } as never, ((err: Error | null, address: unknown) => resolve({ err, address })) as never),
      );
    const rebinding = await look([{ address: '169.254.169.254', family: 4 }], open, false);
    expect(rebinding.err).toBeInstanceOf(OutboundAddressError);
    expect(rebinding.err?.message).toBe('feed.example: 169.254.169.254 is a cloud metadata address: earshot never connects there');
    const mixed = await look([{ address: '10.0.0.5', family: 4 }, { address: '93.184.216.34', family: 4 }], closed, true);
    expect(mixed).toEqual({ err: null, address: [{ address: '93.184.216.34', family: 4 }] });
    const single = await look([{ address: '10.0.0.5', family: 4 }, { address: '93.184.216.34', family: 4 }], closed, false);
    expect(single).toEqual({ err: null, address: '93.184.216.34' });
    expect((await look([{ address: '10.0.0.5', family: 4 }], closed, false)).err?.message).toMatch(/^feed\.example: 10\.0\.0\.5 is a private/);
  });

  describe('on the wire', () => {
    let server: FixtureServer;
    const before = outboundPolicy();
    beforeAll(async () => {
      server = await startFixtureServer({
        '/feed.xml': { body: '<rss/>', headers: { 'content-type': 'application/rss+xml' } },
        '/to-metadata': { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/iam/' } },
      });
    });
    afterEach(() => setOutboundPolicy(before));
    afterAll(async () => server?.close());

    it('refuses a crawl of a private address unless allowed, and a redirect to metadata always', async () => {
      const http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
      setOutboundPolicy(open);
      expect((await http.get(`${server.url}/feed.xml`)).status).toBe(200);
      const redirected = await http.get(`${server.url}/to-metadata`).catch((err: unknown) => err);
      expect(redirected).toBeInstanceOf(TargetUnusableError);
      expect((redirected as Error).message).toBe('http://169.254.169.254/latest/meta-data/iam/: 169.254.169.254 is a cloud metadata address: earshot never connects there');

      await http.close();
      // A new client: pooled connections were opened under the policy of their time.
      setOutboundPolicy(closed);
      const guarded = createHttpClient({ perHostPerSecond: 0, retries: 0 });
      const local = await guarded.get(`${server.url}/feed.xml`).catch((err: unknown) => err);
      expect(local).toBeInstanceOf(TargetUnusableError);
      expect((local as Error).message).toMatch(/127\.0\.0\.1 is a private or loopback address/);
      const named = await guarded.get(`${server.url.replace('127.0.0.1', 'localhost')}/feed.xml`).catch((err: unknown) => err);
      expect((named as Error).message).toMatch(/localhost is this machine/);
      expect(server.requests.filter((r) => r.path === '/feed.xml')).toHaveLength(1); // only the allowed one arrived
      await guarded.close();
    });

    it('fails a webhook delivery to a refused address, saying why', async () => {
      setOutboundPolicy(open);
      const outcome = await sendWebhook({ url: 'http://169.254.169.254/hook', secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0' }, { id: 'msg_1', body: '{}' }, { now: new Date(), timeoutMs: 2_000 });
      expect(outcome).toMatchObject({ ok: false, status: null, error: '169.254.169.254 is a cloud metadata address: earshot never connects there' });
      setOutboundPolicy(closed);
      const local = await sendWebhook({ url: `${server.url}/feed.xml`, secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0' }, { id: 'msg_2', body: '{}' }, { now: new Date(), timeoutMs: 2_000 });
      expect(local).toMatchObject({ ok: false, error: expect.stringMatching(/127\.0\.0\.1 is a private or loopback address/) });
    });
  });
});
