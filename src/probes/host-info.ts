/**
 * Which OS the check ran on (the Azure Linux / CBL-Mariner release and kernel of the EFLOW VM),
 * so a fleet owner can tell whether a fault follows an image version. Read from /etc/os-release
 * and the kernel. (systeminformation's osInfo() was measured blocking the event loop: it runs
 * `hostname -f` with execSync, which waits on DNS, so it breaks the deadline exactly on the
 * networks this tool is for.)
 */
import { arch, hostname, release } from 'node:os';
import type { HostInfo } from '../report/types.js';
import { readUtf8, type ReadText } from '../util/files.js';

export function parseOsRelease(text: string): { distro: string; release: string } {
  const get = (key: string) => new RegExp(`^${key}=("?)(.*)\\1$`, 'm').exec(text)?.[2]?.trim();
  return { distro: get('NAME') ?? get('ID') ?? 'unknown', release: get('VERSION_ID') ?? get('VERSION') ?? 'unknown' };
}

export async function readHostInfo(read: ReadText = readUtf8): Promise<HostInfo> {
  const os = await read('/etc/os-release')
    .catch(() => read('/usr/lib/os-release'))
    .then(parseOsRelease, () => ({ distro: 'unknown', release: 'unknown' }));
  return { hostname: hostname(), ...os, kernel: release(), arch: arch() };
}

/** The host does not change while the process runs: read it once, on first use. */
export function hostInfoOnce(read: ReadText = readUtf8): () => Promise<HostInfo> {
  let info: Promise<HostInfo> | null = null;
  return () => (info ??= readHostInfo(read));
}
