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

export interface OutboundPolicy {
  allowPrivateTargets: boolean;
  allowedCidrs: readonly string[];
}

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
 * Resolves the URL's host and checks every address it resolves to.
 *
 * @example await checkOutboundUrl('http://127.0.0.1:9000/hook', { allowPrivateTargets: false, allowedCidrs: [] })
 */
export async function checkOutboundUrl(url: string, policy: OutboundPolicy): Promise<AddressCheck> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
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
