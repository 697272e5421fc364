/**
 * Which OS the check ran on (CBL-Mariner / Azure Linux release and kernel of the EFLOW VM), so a
 * fleet owner can tell whether a fault follows an image version. Read once per process through
 * systeminformation (about 150 ms on first use), then cached.
 */
import si from 'systeminformation';
import type { HostInfo } from '../report/types.js';

let cached: Promise<HostInfo | null> | null = null;

export function hostInfo(): Promise<HostInfo | null> {
  cached ??= si
    .osInfo()
    .then((os) => ({ hostname: os.hostname, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch }))
    .catch(() => null);
  return cached;
}
