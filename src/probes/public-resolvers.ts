/**
 * Well-known public DNS resolvers. Many corporate networks block outbound DNS to them, so a VM
 * configured with one is worth a DNS_PUBLIC_SERVER note. The lab never sends traffic to these
 * addresses: this is a pure lookup, covered by unit tests.
 */
import { canonicalIp } from '../util/address.js';

/** Provider → its resolver addresses (standard, plus the filtering variants people configure). */
const PUBLIC_RESOLVERS: Readonly<Record<string, readonly string[]>> = {
  'Google Public DNS': ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844'],
  Cloudflare: [
    '1.1.1.1',
    '1.0.0.1',
    '2606:4700:4700::1111',
    '2606:4700:4700::1001',
    // 1.1.1.1 for Families (malware; malware and adult content)
    '1.1.1.2',
    '1.0.0.2',
    '2606:4700:4700::1112',
    '2606:4700:4700::1002',
    '1.1.1.3',
    '1.0.0.3',
    '2606:4700:4700::1113',
    '2606:4700:4700::1003',
  ],
  Quad9: [
    '9.9.9.9',
    '149.112.112.112',
    '2620:fe::fe',
    '2620:fe::9',
    '9.9.9.10',
    '149.112.112.10',
    '2620:fe::10',
    '2620:fe::fe:10',
    '9.9.9.11',
    '149.112.112.11',
    '2620:fe::11',
    '2620:fe::fe:11',
  ],
  OpenDNS: [
    '208.67.222.222',
    '208.67.220.220',
    '208.67.222.123',
    '208.67.220.123',
    '2620:119:35::35',
    '2620:119:53::53',
  ],
  'AdGuard DNS': [
    '94.140.14.14',
    '94.140.15.15',
    '2a10:50c0::ad1:ff',
    '2a10:50c0::ad2:ff',
    '94.140.14.15',
    '94.140.15.16',
    '2a10:50c0::bad1:ff',
    '2a10:50c0::bad2:ff',
    '94.140.14.140',
    '94.140.14.141',
    '2a10:50c0::1:ff',
    '2a10:50c0::2:ff',
  ],
  'Level3 / Lumen': ['4.2.2.1', '4.2.2.2', '4.2.2.3', '4.2.2.4', '4.2.2.5', '4.2.2.6'],
  CleanBrowsing: ['185.228.168.9', '185.228.169.9', '185.228.168.168', '185.228.169.168'],
  'Comodo Secure DNS': ['8.26.56.26', '8.20.247.20'],
  'Yandex DNS': ['77.88.8.8', '77.88.8.1'],
  'Control D': ['76.76.2.0', '76.76.10.0'],
  AliDNS: ['223.5.5.5', '223.6.6.6'],
  '114DNS': ['114.114.114.114', '114.114.115.115'],
};

/** One text per address, so "2001:4860:4860:0:0:0:0:8888", a %zone and "::ffff:8.8.8.8" all meet their entry. */
const canonical = (address: string): string | null => canonicalIp(address, { unmap: true, dropZone: true });

const PROVIDER_BY_ADDRESS: ReadonlyMap<string, string> = new Map(
  Object.entries(PUBLIC_RESOLVERS).flatMap(([provider, addresses]) =>
    addresses.map((address): [string, string] => [canonical(address) ?? address, provider]),
  ),
);

/** The provider's name when `address` is a well-known public resolver, else null. */
export function publicResolverProvider(address: string): string | null {
  const key = canonical(address);
  return key === null ? null : (PROVIDER_BY_ADDRESS.get(key) ?? null);
}

export function isPublicResolver(address: string): boolean {
  return publicResolverProvider(address) !== null;
}
