/**
 * StatusHistory (src/module/status-history.ts, CONTRACT.md 8.2): statusSince and each finding's
 * since over a run of checks, and across a restart only as far as the twin already holds them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusHistory, priorFromTwin } from '../../src/module/status-history.js';
import { findingKey, type JsonObject } from '../../src/report/twin.js';
import type { Finding, Report } from '../../src/report/types.js';
import { HUB } from '../support/observations.js';
import { makeReport } from '../support/reports.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 26, 6, minute)).toISOString();

const blocked: Finding = {
  code: 'FW_PORT_BLOCKED',
  severity: 'error',
  component: 'firewall',
  subject: `${HUB}:5671`,
  message: 'No answer within 3000 ms',
  guidance: 'open it',
};
const publicDns: Finding = {
  code: 'DNS_PUBLIC_SERVER',
  severity: 'info',
  component: 'dns',
  subject: '8.8.8.8',
  message: 'public',
  guidance: 'ask',
};

function check(minute: number, findings: Finding[] = []): Report {
  const status = findings.some((f) => f.severity === 'error') ? 'unhealthy' : 'healthy';
  return makeReport({
    startedAt: at(minute),
    status,
    failingComponent: status === 'unhealthy' ? 'firewall' : null,
    findings,
  });
}

const sinceOf = (h: StatusHistory, minute: number, f: Finding) => h.current(at(minute)).since.get(findingKey(f));

describe('StatusHistory within one process', () => {
  test('a fault appears (since and statusSince are that check), persists (unchanged), clears (gone)', () => {
    const h = new StatusHistory();
    h.restore({}); // an empty twin: a first deployment
    assert.equal(h.observe(check(0)).statusSince, at(0));
    const appeared = h.observe(check(5, [blocked]));
    assert.equal(appeared.statusSince, at(5));
    assert.equal(appeared.since.get(findingKey(blocked)), at(5));
    for (const minute of [10, 15, 20]) {
      const persisting = h.observe(check(minute, [blocked]));
      assert.equal(persisting.statusSince, at(5), 'the status began when the fault appeared');
      assert.equal(persisting.since.get(findingKey(blocked)), at(5), 'since does not move while it persists');
    }
    const cleared = h.observe(check(25));
    assert.equal(cleared.statusSince, at(25));
    assert.equal(cleared.since.size, 0);
  });

  test('a check without the finding ends its run: the next sighting starts a new one', () => {
    const h = new StatusHistory();
    h.observe(check(0, [blocked, publicDns]));
    h.observe(check(5, [publicDns])); // 5671 answered once
    h.observe(check(10, [blocked, publicDns]));
    assert.equal(sinceOf(h, 10, blocked), at(10));
    assert.equal(sinceOf(h, 10, publicDns), at(0), 'the other finding ran unbroken');
  });

  test('the same code on another subject is another finding; a new severity is the same one', () => {
    const h = new StatusHistory();
    h.observe(check(0, [blocked]));
    const other = { ...blocked, subject: `${HUB}:443` };
    const view = h.observe(check(5, [{ ...blocked, severity: 'warning' }, other]));
    assert.equal(view.since.get(findingKey(blocked)), at(0));
    assert.equal(view.since.get(findingKey(other)), at(5));
  });

  test('statusSince follows the status only (a new failing layer with the same status keeps it)', () => {
    const h = new StatusHistory();
    h.observe(check(0, [blocked]));
    const dnsDown = makeReport({
      startedAt: at(5),
      status: 'unhealthy',
      failingComponent: 'dns',
      findings: [{ ...publicDns, severity: 'error', code: 'DNS_SERVER_NOT_ANSWERING' }],
    });
    assert.equal(h.observe(dnsDown).statusSince, at(0));
  });
});

describe('StatusHistory across a restart', () => {
  const twin = (over: JsonObject = {}): JsonObject => ({
    status: 'unhealthy',
    failingComponent: 'firewall',
    statusSince: at(-60),
    lastStatusChangeAt: at(-60),
    findings: [
      { code: blocked.code, severity: 'error', component: 'firewall', subject: blocked.subject, since: at(-50) },
    ],
    ...over,
  });

  test('the first check continues the twin: statusSince and since are read back when the state is the same', () => {
    const h = new StatusHistory();
    h.restore(twin());
    const view = h.observe(check(0, [blocked, publicDns]));
    assert.equal(view.statusSince, at(-60));
    assert.equal(view.since.get(findingKey(blocked)), at(-50));
    assert.equal(view.since.get(findingKey(publicDns)), at(0), 'not in the twin: new');
  });

  test('a different status starts now; a finding the twin did not hold starts now', () => {
    const h = new StatusHistory();
    h.restore(twin());
    const view = h.observe(check(0, [publicDns]));
    assert.equal(view.statusSince, at(0));
    assert.equal(view.since.get(findingKey(publicDns)), at(0));
  });

  test('nothing is invented: no statusSince in the twin, an unparseable since, or one in the future, is not used', () => {
    for (const over of [
      { statusSince: 'yesterday', lastStatusChangeAt: null },
      { statusSince: at(30) }, // later than the check: not a time this state could have begun
    ] as JsonObject[]) {
      const h = new StatusHistory();
      h.restore(twin(over));
      assert.equal(h.observe(check(0, [blocked])).statusSince, at(0), JSON.stringify(over));
    }
    const h = new StatusHistory();
    h.restore(twin({ findings: [{ code: blocked.code, subject: blocked.subject, since: 'soon' }] }));
    assert.equal(h.observe(check(0, [blocked])).since.get(findingKey(blocked)), at(0));
  });

  test('a twin of an older version (lastStatusChangeAt only) gives statusSince', () => {
    const h = new StatusHistory();
    h.restore(twin({ statusSince: null, lastStatusChangeAt: at(-30) }));
    assert.equal(h.observe(check(0, [blocked])).statusSince, at(-30));
  });

  test('only the first read counts: later reads show what this process wrote itself', () => {
    const h = new StatusHistory();
    h.restore({ status: 'healthy', statusSince: at(-60) });
    h.observe(check(0, [blocked]));
    h.restore(twin({ statusSince: at(-120) }));
    assert.equal(h.observe(check(5, [blocked])).statusSince, at(0));
  });

  test('edgeHub late: checks made before the first read continue the twin where nothing changed since', () => {
    const h = new StatusHistory();
    h.observe(check(0, [blocked, publicDns]));
    h.observe(check(5, [blocked, publicDns]));
    assert.equal(h.restored, false);
    h.restore(twin());
    const view = h.current(at(5));
    assert.equal(view.statusSince, at(-60));
    assert.equal(view.since.get(findingKey(blocked)), at(-50));
    assert.equal(view.since.get(findingKey(publicDns)), at(0));
  });

  test('edgeHub late, and the state changed meanwhile: what this process saw begin stays', () => {
    const h = new StatusHistory();
    h.observe(check(0, [blocked]));
    h.observe(check(5)); // cleared
    h.observe(check(10, [blocked])); // back, a new run
    h.restore(twin());
    const view = h.current(at(10));
    assert.equal(view.statusSince, at(10));
    assert.equal(view.since.get(findingKey(blocked)), at(10));
  });

  test('priorFromTwin skips malformed entries', () => {
    const prior = priorFromTwin({
      status: 3,
      findings: [null, 'x', { code: 1, subject: 's', since: at(0) }, { code: 'A', subject: 'b', since: at(1) }],
    });
    assert.equal(prior.status, null);
    assert.deepEqual([...prior.since.values()], [at(1)]);
  });
});
