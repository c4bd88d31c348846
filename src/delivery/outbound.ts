import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { cidrList, normalisedAddress } from '../lib/cidr.ts';

/*
 * Outbound address policy (SPEC §4): a webhook or S3 endpoint must not reach
 * loopback, private, link-local (cloud metadata lives there), unspecified or
 * multicast addresses unless configuration allows it. The check runs on the
 * resolved addresses, so a public name pointing inward is refused too.
 */

const BLOCKED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 127, 'ipv6'],
  // IPv4 inside IPv6: compatible (::/96), mapped in hex (::ffff:7f00:1), NAT64
  // (64:ff9b::/96) and 6to4 (2002::/16) can each reach a private IPv4 address.
  ['::', 96, 'ipv6'],
  ['::ffff:0:0', 96, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fec0::', 10, 'ipv6'], // site-local, deprecated but still routed by some networks
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** A host's addresses, as a DNS lookup gives them. */
export type Resolver = (host: string) => Promise<string[]>;

export interface OutboundPolicy {
  allowPrivateTargets: boolean;
  allowedCidrs: readonly string[];
  /** How names are resolved; the system's resolver unless a test injects one. */
  resolve?: Resolver;
}

const systemResolver: Resolver = async (host) => (await lookup(host, { all: true })).map((entry) => entry.address);

export type AddressCheck =
  | { ok: true; address: string }
  | { ok: false; reason: string; errorClass: 'blocked_address' | 'dns' };

function blockList(entries: [string, number, 'ipv4' | 'ipv6'][]) {
  const list = new BlockList();
  for (const [network, prefix, family] of entries) list.addSubnet(network, prefix, family);
  return list;
}

// One list per family: Node's BlockList matches IPv4 addresses against IPv6
// rules through their mapped form, so ::ffff:0:0/96 would refuse every IPv4.
const blocked = {
  ipv4: blockList(BLOCKED.filter(([, , family]) => family === 'ipv4')),
  ipv6: blockList(BLOCKED.filter(([, , family]) => family === 'ipv6')),
};

// The allow-list is built once per policy (the config's, frozen), not per request.
const allowLists = new WeakMap<OutboundPolicy, BlockList>();
function allowListOf(policy: OutboundPolicy): BlockList {
  let list = allowLists.get(policy);
  if (!list) {
    list = cidrList(policy.allowedCidrs);
    allowLists.set(policy, list);
  }
  return list;
}

/**
 * Resolves the URL's host once and checks every address it resolves to.
 * The answer names the address to connect to: the caller connects there
 * (see pinnedTo), never to the name, so a resolver that answers a public
 * address to the check and a private one to the connection (DNS
 * rebinding) reaches only what was checked.
 *
 * @example await checkOutboundUrl('http://127.0.0.1:9000/hook', { allowPrivateTargets: false, allowedCidrs: [] })
 */
export async function checkOutboundUrl(url: string, policy: OutboundPolicy): Promise<AddressCheck> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await (policy.resolve ?? systemResolver)(host);
    if (addresses.length === 0) throw new Error('no addresses');
  } catch (error) {
    return { ok: false, errorClass: 'dns', reason: `Could not resolve ${host}: ${(error as Error).message}` };
  }
  if (policy.allowPrivateTargets) return { ok: true, address: addresses[0]! };
  const allowed = allowListOf(policy);
  for (const raw of addresses) {
    const { address, family } = normalisedAddress(raw);
    if (blocked[family].check(address, family) && !allowed.check(address, family)) {
      return {
        ok: false,
        errorClass: 'blocked_address',
        reason:
          `${host} resolves to ${address}, a private, loopback or link-local address, which Tideway does not call by default. ` +
          'Set ALLOW_PRIVATE_TARGETS=true, or add its network to ALLOWED_TARGET_CIDRS, to allow it.',
      };
    }
  }
  return { ok: true, address: addresses[0]! };
}

/** Where a request goes once its host is pinned to one checked address. */
export interface PinnedRequest {
  /** The URL with its host replaced by the address. */
  url: string;
  /** The Host header: the URL's own host and port. */
  host: string;
  /** The TLS server name (SNI, and the name the certificate must carry): the URL's host, for https to a name. */
  servername: string | undefined;
}

/**
 * The request to `url` sent to `address` (from checkOutboundUrl) instead
 * of to whatever its name resolves to when connecting; the receiver sees
 * the same Host header and TLS server name as without pinning.
 *
 * @example pinnedTo('https://hooks.example.com/in', '93.184.216.34') // { url: 'https://93.184.216.34/in', host: 'hooks.example.com', servername: 'hooks.example.com' }
 */
export function pinnedTo(url: string, address: string): PinnedRequest {
  const parsed = new URL(url);
  const host = parsed.host;
  const name = parsed.hostname.replace(/^\[|\]$/g, '');
  const servername = parsed.protocol === 'https:' && !isIP(name) ? name : undefined;
  parsed.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return { url: parsed.toString(), host, servername };
}
