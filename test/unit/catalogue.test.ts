/**
 * The finding catalogue is the one list of codes: every code has its component, severity and
 * words; the README's code table is exactly the table made from it; and CONTRACT.md's codes are
 * all in it (the contract is public, so a code it names and the product lacks is a defect).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CATALOGUE, FINDING_CODES, specOf } from '../../src/findings/catalogue.js';
import { finding } from '../../src/findings/finding.js';
import { COMPONENTS } from '../../src/report/vocabulary.js';
import { README, readmeWithTable } from '../../scripts/code-table.js';

test('the README code table is the one made from the catalogue (run `npm run codes` after a change)', () => {
  const readme = readFileSync(README, 'utf8');
  assert.equal(readme, readmeWithTable(readme));
});

test('every code names its own layer in its prefix, and has a when and a severity', () => {
  const prefix: Record<string, string> = { ip: 'IP_', dns: 'DNS_', firewall: 'FW_', proxy: 'PROXY_', clock: 'CLOCK_' };
  for (const code of FINDING_CODES) {
    const spec = specOf(code);
    assert.ok((COMPONENTS as readonly string[]).includes(spec.component), code);
    assert.ok(code.startsWith(prefix[spec.component] ?? '?'), `${code} in ${spec.component}`);
    assert.ok(spec.when.length > 5, `${code} has a when`);
  }
});

test('finding() takes component and default severity from the catalogue, and a severity rule may override it', () => {
  const f = finding('DNS_SERVER_REFUSED', '198.18.1.53', { server: '198.18.1.53', names: ['h.azure-devices.net'] });
  assert.equal(f.component, 'dns');
  assert.equal(f.severity, 'error');
  assert.match(f.message, /198\.18\.1\.53 refused to resolve h\.azure-devices\.net/);
  assert.ok(f.guidance.length > 20);
  assert.equal(finding('DNS_SERVER_REFUSED', 's', { server: 's', names: [] }, 'warning').severity, 'warning');
});

const contractPath = new URL('../../../shared/CONTRACT.md', import.meta.url);
test(
  'every finding code CONTRACT.md names is in the catalogue',
  { skip: !existsSync(contractPath) && 'no ../shared/CONTRACT.md' },
  () => {
    const contract = readFileSync(contractPath, 'utf8');
    // Sections 4 and 7.
    const named = [
      ...new Set(contract.match(/`((?:IP|DNS|FW|PROXY|CLOCK)_[A-Z_]+)`/g)?.map((m) => m.slice(1, -1)) ?? []),
    ];
    const missing = named.filter((c) => !(c in CATALOGUE));
    assert.ok(named.length >= 40, `${named.length} codes found in CONTRACT.md`);
    assert.deepEqual(missing, []);
  },
);
