/**
 * Which OS the check ran on (the CBL-Mariner / Azure Linux release and kernel of the EFLOW VM),
 * so a fleet owner can tell whether a fault follows an image version. Read from /etc/os-release
 * and the kernel, once per process. (systeminformation's osInfo() was measured blocking the
 * event loop: it runs `hostname -f` with execSync, which waits on DNS, so it breaks the deadline
 * exactly on the networks this tool is for.)
 */
import { readFile } from 'node:fs/promises';
import { arch, hostname, release } from 'node:os';
import type { HostInfo } from '../report/types.js';

let cached: Promise<HostInfo> | null = null;

export function parseOsRelease(text: string): { distro: string; release: string } {
  const get = (key: string) => new RegExp(`^${key}=("?)(.*)\\1$`, 'm').exec(text)?.[2]?.trim();
  return { distro: get('NAME') ?? get('ID') ?? 'unknown', release: get('VERSION_ID') ?? get('VERSION') ?? 'unknown' };
}

export function hostInfo(read: (p: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<HostInfo> {
  cached ??= read('/etc/os-release')
    .catch(() => read('/usr/lib/os-release'))
    .then(parseOsRelease, () => ({ distro: 'unknown', release: 'unknown' }))
    .then((os) => ({ hostname: hostname(), ...os, kernel: release(), arch: arch() }));
  return cached;
}
