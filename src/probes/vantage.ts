/**
 * Where the check looks from (CONTRACT.md 8.4). With host networking (the deployment's `netdiag`
 * module, or the CLI in the VM) the process sees the VM's own interfaces (eth0, docker0, the
 * azure-iot-edge bridge br-…) and the VM's resolver. A second copy of the image deployed on the
 * azure-iot-edge network sees only its own end of a veth pair (eth0) and the resolv.conf Docker
 * writes for user-defined networks, naming its embedded resolver 127.0.0.11 alone. Only when both
 * hold is the vantage "container"; anything else, including what cannot be read, is "host", the
 * deployment's default. NETDIAG_VANTAGE overrides the guess.
 */
import { networkInterfaces } from 'node:os';
import type { Vantage } from '../report/vocabulary.js';
import { readTextOrNull, readUtf8, type ReadText } from '../util/files.js';
import { parseResolvConf } from './resolvers.js';

/** Docker's embedded DNS server, which every container on a user-defined network is given. */
export const EMBEDDED_DNS = '127.0.0.11';

/** Interfaces a VM (or any host) has and a container on a bridge network does not. */
const HOST_ONLY = /^(docker\d*|br-[0-9a-f]+|azure-iot-edge|veth.*|virbr\d+|cni\d*|flannel.*)$/;

/**
 * "container" when the resolv.conf names only the embedded resolver and every interface other
 * than loopback is a container's own ethN; "host" otherwise.
 */
export function detectVantage(resolvConf: string | null, interfaceNames: readonly string[]): Vantage {
  if (resolvConf === null) return 'host';
  const { servers } = parseResolvConf(resolvConf);
  if (servers.length !== 1 || servers[0] !== EMBEDDED_DNS) return 'host';
  const others = interfaceNames.filter((n) => n !== 'lo');
  if (others.length === 0 || others.some((n) => HOST_ONLY.test(n) || !/^eth\d+$/.test(n))) return 'host';
  return 'container';
}

export interface VantageSources {
  read?: ReadText;
  interfaceNames?: () => string[];
}

/** The vantage in effect: the setting when given, else detected from `resolvConfPath` and the interfaces. */
export async function vantageFor(
  setting: Vantage | null,
  resolvConfPath: string,
  sources: VantageSources = {},
): Promise<Vantage> {
  if (setting !== null) return setting;
  const text = await readTextOrNull(resolvConfPath, sources.read ?? readUtf8);
  let names: string[];
  try {
    names = (sources.interfaceNames ?? (() => Object.keys(networkInterfaces())))();
  } catch {
    return 'host';
  }
  return detectVantage(text, names);
}
