import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';

// Where earshot may connect: crawls, helpdesks, webhooks and alert channels all go out through here. Link-local
// and cloud metadata addresses are never reached (a feed or webhook URL must not read a cloud's credentials);
// private and loopback addresses only when the config says `network.allowPrivate: true`. An address is judged
// after DNS, at connect time, on every redirect hop: a name that resolves to a refused address is refused
// whatever it resolved to at config check (no DNS rebinding).

export interface OutboundPolicy {
  /** Private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and loopback addresses may be reached. */
  allowPrivate: boolean;
}

/** A connection earshot refused to open; its message says which address and why. */
export class OutboundAddressError extends Error {
  override name = 'OutboundAddressError';
}

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) list.addSubnet(cidr.split('/')[0]!, Number(cidr.split('/')[1]), 'ipv4');
  for (const cidr of v6) list.addSubnet(cidr.split('/')[0]!, Number(cidr.split('/')[1]), 'ipv6');
  return list;
}

const METADATA = blockList(['169.254.169.254/32', '100.100.100.200/32'], ['fd00:ec2::254/128']);
const NEVER = blockList(
  ['0.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'],
  ['::/128', 'fe80::/10', 'ff00::/8'],
);
const PRIVATE = blockList(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '100.64.0.0/10', '198.18.0.0/15'],
  ['::1/128', 'fc00::/7'],
);
/** Names of the clouds' metadata services, refused before any lookup. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

/** An IPv4-mapped IPv6 address (::ffff:169.254.169.254) is judged as the IPv4 address it carries. */
function unmapped(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], type: 'ipv4' };
  if (mapped?.[2]) {
    const hi = parseInt(mapped[2], 16);
    const lo = parseInt(mapped[3]!, 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, type: 'ipv4' };
  }
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Why an IP address may not be reached under `policy`, or null when it may. */
export function addressRefusal(ip: string, policy: OutboundPolicy): string | null {
  const { address, type } = unmapped(ip);
  const named = address === ip ? ip : `${ip} (${address})`;
  if (METADATA.check(address, type)) return `${named} is a cloud metadata address: earshot never connects there`;
  if (NEVER.check(address, type)) return `${named} is a link-local, multicast or reserved address: earshot never connects there`;
  if (!policy.allowPrivate && PRIVATE.check(address, type)) {
    return `${named} is a private or loopback address: refused unless the config says network: { allowPrivate: true }`;
  }
  return null;
}

/**
 * Why a host as written in a URL may not be reached, when that is known without DNS: an IP address, localhost,
 * or a cloud metadata name. Null for any other name (judged when it resolves).
 */
export function hostRefusal(host: string, policy: OutboundPolicy): string | null {
  const bare = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (isIP(bare)) return addressRefusal(bare, policy);
  if (METADATA_NAMES.has(bare)) return `${bare} is a cloud metadata service: earshot never connects there`;
  if (!policy.allowPrivate && (bare === 'localhost' || bare.endsWith('.localhost'))) {
    return `${bare} is this machine: refused unless the config says network: { allowPrivate: true }`;
  }
  return null;
}

/** dns.lookup that keeps only the addresses the policy allows, and fails naming the refused ones when none is left. */
export function guardedLookup(policy: () => OutboundPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    const refusedName = hostRefusal(hostname, policy());
    if (refusedName) return callback(new OutboundAddressError(refusedName), '', 0);
    resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => addressRefusal(a.address, policy()) === null);
      if (allowed.length === 0) {
        const why = addresses.map((a) => addressRefusal(a.address, policy())).join('; ');
        return callback(new OutboundAddressError(`${hostname}: ${why}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** undici's connector, refusing what the policy refuses: an IP in the URL before connecting, a name after DNS. */
export function guardedConnector(policy: () => OutboundPolicy, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: guardedLookup(policy) } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    const refused = isIP(host) ? addressRefusal(host, policy()) : null;
    if (refused) return callback(new OutboundAddressError(refused), null);
    return connect(opts, callback);
  };
}

// The process's policy: the runtime sets it from the config it loads (network.allowPrivate, default false).
// Until then (a test, `earshot crawl` without a config) private addresses are allowed; metadata never is.
let current: OutboundPolicy = { allowPrivate: true };
let shared: Agent | undefined;

export function setOutboundPolicy(policy: OutboundPolicy): void {
  current = { ...policy };
}

export function outboundPolicy(): OutboundPolicy {
  return current;
}

/** The dispatcher of every outbound request that brings no agent of its own (helpdesks, webhooks, channels). */
export function outboundDispatcher(): Dispatcher {
  shared ??= new Agent({ connect: guardedConnector(outboundPolicy) });
  return shared;
}
