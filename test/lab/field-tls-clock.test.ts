/**
 * The TLS-cause rows (CONTRACT 7.3) and the clock rows (7.4) of the field matrix: a certificate for
 * another name, a genuine-looking chain whose root the VM's store lacks, a server clock 10 minutes
 * and 45 seconds off, a certificate not yet valid because the VM's clock is behind (the clock's
 * fault) or really expired while the clock is right (the firewall's), and a date error with no
 * offset to compare.
 */
import assert from 'node:assert/strict';
import { GENUINE_ROOT_NAME, WRONG_CERT_NAME } from './field-certs.js';
import { FIELD_HOSTS } from './field-lab.js';
import { assertEndpoint, runFieldScenarios, subjectOf, type FieldScenario } from './field-scenario.js';

const DAY_S = 86_400;

const SCENARIOS: FieldScenario[] = [
  {
    id: 'T1',
    title: 'the hub’s 443 presents a valid certificate for another name (a captive portal, a stale hosts entry)',
    lab: { hosts: { hub: { ports: { 443: 'wrong-name' } } } },
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      present: [
        {
          code: 'FW_TLS_NAME_MISMATCH',
          severity: 'error',
          subject: subjectOf('hub', 443),
          message: [new RegExp(WRONG_CERT_NAME.replace(/\./g, '\\.')), new RegExp(FIELD_HOSTS.hub.address)],
          mentions: [/\/etc\/hosts/, /Resolve-DnsName/],
        },
      ],
      absent: ['FW_TLS_UNTRUSTED', 'FW_TLS_ROOT_MISSING', 'CLOCK_SKEW'],
    },
  },
  {
    id: 'T2',
    title: 'a genuine-looking Microsoft/DigiCert chain whose root is not in the VM’s store',
    lab: { hosts: { hub: { ports: { 443: 'root-missing' } } } },
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      present: [
        {
          code: 'FW_TLS_ROOT_MISSING',
          severity: 'error',
          subject: subjectOf('hub', 443),
          message: [new RegExp(GENUINE_ROOT_NAME)],
          mentions: [/update-ca-trust/],
        },
      ],
      absent: ['FW_TLS_UNTRUSTED', 'FW_TLS_NAME_MISMATCH'],
      more: (report) => {
        // The lab's fake root is in no public store either: the name rule decided, and said so.
        assert.equal(assertEndpoint(report, 'hub', 443, 'tls-untrusted').tls?.publicRootsVerify, false);
      },
    },
  },
  {
    id: 'C1',
    title: 'every server’s Date 10 minutes ahead: the VM’s clock is 10 minutes behind (error)',
    lab: { serverClockOffsetSeconds: 600 },
    expect: {
      status: 'unhealthy',
      failingComponent: 'clock',
      components: { firewall: 'healthy', clock: 'unhealthy' },
      present: [
        {
          code: 'CLOCK_SKEW',
          severity: 'error',
          subject: 'clock',
          message: [/10 min \d+ s behind the time lab-hub\.azure-devices\.net:443/],
          mentions: [/systemd-timesyncd/],
        },
      ],
      quiet: ['firewall'],
      more: (report) => {
        const c = report.components.clock;
        assert.ok(c.offsetMs !== null && Math.abs(c.offsetMs + 600_000) < 3000, `offset ${c.offsetMs}`);
        assert.equal(c.reference, subjectOf('hub', 443));
      },
    },
  },
  {
    id: 'C2',
    title: 'every server’s Date 45 seconds behind: the VM is 45 s ahead (a warning)',
    lab: { serverClockOffsetSeconds: -45 },
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { clock: 'degraded' },
      present: [{ code: 'CLOCK_SKEW', severity: 'warning', subject: 'clock', message: [/4\d s ahead of the time/] }],
    },
  },
  {
    id: 'C3',
    title: 'certificates "not yet valid" because the VM’s clock is two days behind: the clock, not TLS',
    lab: {
      serverClockOffsetSeconds: 2 * DAY_S,
      hosts: { hub: { ports: { 8883: 'not-yet-valid', 5671: 'not-yet-valid', 443: 'not-yet-valid' } } },
    },
    expect: {
      status: 'unhealthy',
      failingComponent: 'clock',
      components: { firewall: 'healthy', clock: 'unhealthy' },
      present: [
        {
          code: 'CLOCK_SKEW',
          severity: 'error',
          subject: 'clock',
          message: [/2 h|\d+ h \d+ min behind/, /certificate of lab-hub\.azure-devices\.net:443 is not valid yet/],
        },
      ],
      absent: ['FW_TLS_UNTRUSTED', 'FW_TLS_ROOT_MISSING'],
      quiet: ['firewall'],
      more: (report) => {
        const e = assertEndpoint(report, 'hub', 443, 'tls-untrusted');
        assert.equal(e.tls?.authorizationError, 'CERT_NOT_YET_VALID');
        // The Date came from the untrusted hub's answer or a trusted one; either way it was measured.
        assert.ok((report.components.clock.offsetMs ?? 0) < -DAY_S * 1000);
      },
    },
  },
  {
    id: 'C4',
    title: 'a certificate that really expired while the VM’s clock is right stays a firewall finding',
    lab: { hosts: { hub: { ports: { 443: 'expired' } } } },
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: { clock: 'healthy' },
      present: [
        {
          code: 'FW_TLS_UNTRUSTED',
          severity: 'error',
          subject: subjectOf('hub', 443),
          message: [/expired on \d{4}-\d\d-\d\dT/, /the VM's clock is right/],
        },
      ],
      absent: ['CLOCK_SKEW'],
      more: (report) => assert.equal(report.components.clock.reference, subjectOf('dps', 443), 'a trusted Date'),
    },
  },
  {
    id: 'C5',
    title: 'a certificate not yet valid and no Date to compare (--no-exchange): reported under the clock',
    lab: { hosts: { hub: { ports: { 443: 'not-yet-valid' } } } },
    args: () => ['--no-exchange'],
    expect: {
      status: 'unhealthy',
      failingComponent: 'clock',
      components: { firewall: 'healthy', clock: 'unhealthy' },
      present: [
        {
          code: 'CLOCK_SKEW',
          severity: 'error',
          subject: 'clock',
          message: [/could not be compared/, /not valid yet/],
        },
      ],
      absent: ['FW_TLS_UNTRUSTED'],
    },
  },
];

runFieldScenarios('field matrix: TLS causes and the clock (CONTRACT 7.3, 7.4)', SCENARIOS);
