import { BlockList, isIP } from 'node:net';

/*
 * Lists of networks given as CIDRs (ALLOWED_TARGET_CIDRS, TRUSTED_PROXIES),
 * and whether an address is in one. IPv4-mapped IPv6 (::ffff:10.0.0.1) is
 * judged as the IPv4 address it carries.
 */

/** A BlockList holding `cidrs`, e.g. ['10.0.0.0/8', 'fd00::/8']. */
export function cidrList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/');
    list.addSubnet(network!, Number(prefix), isIP(network!) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** The address as BlockList checks it: IPv4-mapped IPv6 unwrapped. */
export function normalisedAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Whether `address` (an IP, else false) is in `list`. */
export function inList(list: BlockList, address: string): boolean {
  if (isIP(address.trim()) === 0) return false;
  const { address: plain, family } = normalisedAddress(address.trim());
  return list.check(plain, family);
}
