/**
 * The vantage (src/probes/vantage.ts, CONTRACT.md 8.4): "container" only when the process sees
 * its own container interface alone and Docker's embedded resolver alone; the setting wins.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EMBEDDED_DNS, detectVantage, vantageFor } from '../../src/probes/vantage.js';

const CONTAINER_RESOLV = `nameserver ${EMBEDDED_DNS}\noptions ndots:0\n`;

describe('vantage', () => {
  test('a container on a user-defined network: lo, eth0 and 127.0.0.11', () => {
    assert.equal(detectVantage(CONTAINER_RESOLV, ['lo', 'eth0']), 'container');
    assert.equal(detectVantage(CONTAINER_RESOLV, ['lo', 'eth0', 'eth1']), 'container', 'on two networks');
  });

  test('the EFLOW VM (host networking): its bridges, or its resolver, say host', () => {
    assert.equal(detectVantage('nameserver 127.0.0.53\n', ['lo', 'eth0', 'docker0', 'br-0123456789ab']), 'host');
    assert.equal(detectVantage(CONTAINER_RESOLV, ['lo', 'eth0', 'docker0']), 'host', 'a host that uses 127.0.0.11');
    assert.equal(detectVantage(CONTAINER_RESOLV, ['lo', 'eth0', 'vethctr0']), 'host');
    assert.equal(
      detectVantage('nameserver 198.18.0.53\n', ['lo', 'eth0']),
      'host',
      'a container on the default bridge resolves upstream',
    );
    assert.equal(detectVantage(`${CONTAINER_RESOLV}nameserver 198.18.0.53\n`, ['lo', 'eth0']), 'host');
    assert.equal(detectVantage(CONTAINER_RESOLV, ['lo']), 'host');
    assert.equal(detectVantage(null, ['lo', 'eth0']), 'host', 'nothing readable: the deployment default');
  });

  test('NETDIAG_VANTAGE wins; otherwise the files and interfaces decide', async () => {
    const read = async () => CONTAINER_RESOLV;
    assert.equal(await vantageFor('host', '/etc/resolv.conf', { read, interfaceNames: () => ['lo', 'eth0'] }), 'host');
    assert.equal(
      await vantageFor(null, '/etc/resolv.conf', { read, interfaceNames: () => ['lo', 'eth0'] }),
      'container',
    );
    assert.equal(
      await vantageFor(null, '/etc/resolv.conf', {
        read,
        interfaceNames: () => {
          throw new Error('no interfaces');
        },
      }),
      'host',
    );
  });
});
