/** The clock layer's codes (CONTRACT.md 7.4) and their words. */
import { defineCodes } from './define.js';

/** |offset| from which the clock is reported, and from which it is an error (IoT Hub's skew tolerance). */
export const CLOCK_WARNING_MS = 30_000;
export const CLOCK_ERROR_MS = 300_000;

/** An offset in words, to be followed by a time: "10 min 3 s behind", "45 s ahead of". */
export function describeOffset(offsetMs: number): string {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = h > 0 ? [`${h} h`, `${m} min`] : m > 0 ? [`${m} min`, `${s} s`] : [`${s} s`];
  return `${parts.join(' ')} ${offsetMs < 0 ? 'behind' : 'ahead of'}`;
}

const RESYNC =
  'Resync the VM\'s clock now ("sudo systemctl restart systemd-timesyncd", then "timedatectl status") and make sure ' +
  'it stays synchronised: ' +
  'its NTP server (time.windows.com on EFLOW) must be reachable on UDP 123, or set one your network allows (NTP= in ' +
  '/etc/systemd/timesyncd.conf). ' +
  "EFLOW's clock is known to stay wrong after the Windows host slept or hibernated.";

export const CLOCK_CODES = defineCodes({
  CLOCK_SKEW: {
    component: 'clock',
    severity: 'error',
    when:
      'the clock is 30 s or more off (warning), 300 s or more, or a certificate is not yet valid / expired by ' +
      'the local clock (error): SAS tokens and TLS fail',
    severityRule: 'warning from 30 s, error from 300 s or with a certificate date error',
    words: ({
      offsetMs,
      reference,
      certificates,
    }: {
      offsetMs: number | null;
      reference: string | null;
      certificates: string[];
    }) => ({
      message: [
        offsetMs !== null
          ? `The VM's clock is ${describeOffset(offsetMs)} the time ${reference ?? 'Azure'} answers with.`
          : "The VM's clock could not be compared with Azure's.",
        ...certificates.map((c) => `By the VM's clock, ${c}.`),
      ].join(' '),
      guidance:
        'IoT Hub accepts SAS tokens and certificates only within about 5 minutes of its own time, so a wrong clock ' +
        'breaks authentication and TLS. ' +
        RESYNC,
    }),
  },
  CLOCK_NOT_SYNCHRONIZED: {
    component: 'clock',
    severity: 'warning',
    when: 'the time service reports no synchronisation',
    words: ({ service, detail }: { service: string; detail: string }) => ({
      message: `${service} reports that the clock is not synchronised (${detail}).`,
      guidance: `A clock left alone drifts until SAS tokens and certificates fail. ${RESYNC}`,
    }),
  },
});
