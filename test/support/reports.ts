/**
 * A literal Report (schemaVersion 1) of a healthy EFLOW VM, built from the observations in
 * ./observations.ts, for the tests of what is made from a Report (twin, telemetry, text, merge,
 * method responses). Each call returns fresh objects, so a test may mutate what it gets.
 */
import type { Report } from '../../src/report/types.js';
import { endpoint, healthyGateway, healthyInterface, healthyServer } from './observations.js';

/** The three layers of a healthy check: eth0 with its gateway, one resolver, the hub's three ports open. */
export function healthyComponents(): Report['components'] {
  return {
    ip: { status: 'healthy', interfaces: [healthyInterface()], defaultGateway: healthyGateway() },
    dns: { status: 'healthy', source: 'resolv.conf', files: ['/etc/resolv.conf'], servers: [healthyServer()] },
    proxy: skippedProxy(),
    firewall: {
      status: 'healthy',
      upstreamProtocol: 'Amqp',
      endpoints: [endpoint(8883), endpoint(5671), endpoint(443)],
    },
    clock: skippedClock(),
  };
}

/** The proxy layer of a check on a network without a proxy. */
export function skippedProxy(): Report['components']['proxy'] {
  return { status: 'skipped', url: null, source: null, sources: [], connect: [] };
}

/** The clock layer of a check that did not examine it. */
export function skippedClock(): Report['components']['clock'] {
  return { status: 'skipped', offsetMs: null, reference: null, synchronized: null, syncSource: null };
}

/** A healthy, schema-valid Report; `over` replaces whole top-level fields. */
export function makeReport(over: Partial<Report> = {}): Report {
  return {
    schemaVersion: 1,
    agent: { name: 'eflow-netdiag', version: '0.1.0' },
    host: null,
    checkId: '00000000-0000-4000-8000-000000000001',
    trigger: 'schedule',
    startedAt: '2026-11-26T06:00:00.000Z',
    durationMs: 500,
    status: 'healthy',
    failingComponent: null,
    components: healthyComponents(),
    findings: [],
    timings: {},
    timedOut: [],
    ...over,
  };
}
