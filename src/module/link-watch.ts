/**
 * Notices when an examined interface changes link state or address, so the module checks
 * again soon after (a Default Switch that renumbers, a cable pulled on an external switch).
 * Polls cheap kernel state (sysfs operstate/carrier and the address list) rather than
 * spawning `ip monitor`, which BusyBox images may not have.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

export const LINK_POLL_MS = 2000;
/** Changes settle (DHCP after carrier, several addresses) before one check is run for all of them. */
export const LINK_SETTLE_MS = 3000;

export function linkSignature(names: string[], sysRoot = '/sys/class/net', list = networkInterfaces): string {
  const addrs = list();
  return names
    .map((name) => {
      let oper = 'absent';
      try {
        oper = readFileSync(`${sysRoot}/${name}/operstate`, 'utf8').trim();
      } catch {
        // absent interface: "absent" is its state
      }
      const a = (addrs[name] ?? [])
        .map((x) => x.cidr ?? x.address)
        .sort()
        .join(',');
      return `${name}=${oper}[${a}]`;
    })
    .join(';');
}

export class LinkWatcher {
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private last: string | null = null;

  constructor(
    private readonly names: () => string[],
    private readonly onChange: () => void,
    private readonly pollMs = LINK_POLL_MS,
    private readonly settleMs = LINK_SETTLE_MS,
  ) {}

  start(): void {
    this.last = this.safeSignature();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  private safeSignature(): string | null {
    try {
      return linkSignature(this.names());
    } catch {
      return null;
    }
  }

  private poll(): void {
    const now = this.safeSignature();
    if (now === null || now === this.last) return;
    this.last = now;
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = null;
      this.onChange();
    }, this.settleMs);
    this.settle.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.settle) clearTimeout(this.settle);
  }
}
