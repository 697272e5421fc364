/**
 * The kernel's IPv4 neighbour (ARP) table, from /proc/net/arp: whether a gateway answered ARP.
 * A gateway that ignores ping still answers ARP when it is there at all (a Windows host's NAT
 * switch drops ICMP echo but must answer ARP to route anything), so after the gateway pings an
 * entry with the "complete" flag (ATF_COM, 0x2) tells "alive, ignores ping" from "nobody holds
 * that address" (an incomplete entry, flags 0x0, MAC 00:00:00:00:00:00). Nothing is sent; the
 * pings before the read make the kernel ask. Real output (a namespace, captured with `cat
 * /proc/net/arp` after pinging a present and an absent neighbour) is in test/fixtures/proc/arp.
 *
 * The file shows no NUD state: a STALE entry learned before the gateway went away is still
 * "complete" until the kernel re-probes it (delay_first_probe_time, 5 s, after the first use), so
 * "answered ARP" can be optimistic for a gateway that disappeared in the last seconds. The rules
 * only ever lower a severity on it (IP_MULTIPLE_DEFAULT_ROUTES stays a warning), never raise one.
 */
import { isIPv4 } from 'node:net';
import { readUtf8, type ReadText } from '../util/files.js';

/** <linux/if_arp.h>: the entry is complete (the neighbour answered). */
const ATF_COM = 0x02;
/** A VM's table holds a handful of entries; a bound on what is parsed. */
const MAX_ENTRIES = 4096;

export interface Neighbour {
  address: string;
  interface: string;
  /** Lower case; null while the entry is incomplete. */
  mac: string | null;
  /** The neighbour answered ARP (the entry is complete, or permanent). */
  complete: boolean;
}

/** Every line of /proc/net/arp that parses; others are skipped. Never throws. */
export function parseProcNetArp(text: string): Neighbour[] {
  const lines = (typeof text === 'string' ? text : '').split('\n').slice(1, MAX_ENTRIES + 1);
  const out: Neighbour[] = [];
  for (const line of lines) {
    const [address, , flagsHex, mac, , iface] = line.trim().split(/\s+/);
    if (!address || !isIPv4(address) || !iface || !/^0x[0-9a-f]{1,4}$/i.test(flagsHex ?? '')) continue;
    const complete = (parseInt(flagsHex ?? '0', 16) & ATF_COM) !== 0;
    const validMac = mac !== undefined && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && !/^(00:){5}00$/.test(mac);
    out.push({ address, interface: iface, mac: complete && validMac ? mac.toLowerCase() : null, complete });
  }
  return out;
}

/** The table now; an unreadable file is an empty table (no ARP in this namespace). Never throws. */
export async function readNeighbours(read: ReadText = readUtf8, path = '/proc/net/arp'): Promise<Neighbour[]> {
  try {
    return parseProcNetArp(await read(path));
  } catch {
    return [];
  }
}
