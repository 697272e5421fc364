/**
 * The route of every destination the check needs (src/examine/ip-routes.ts): which destinations
 * are gathered from the observations, why each is needed, and the lookup in the table as read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neededRoutes, proxyAddress } from '../../src/examine/ip-routes.js';
import { endpoint, healthy, healthyContainers, healthyDefaultRoute } from '../support/observations.js';
import { bridge, route, withBridge } from '../support/plumbing.js';

test('gateways, DNS servers of the VM and of the containers, endpoint addresses and an IP proxy; loopback left out, one row per address', () => {
  const obs = healthy();
  obs.ip!.defaultRoutes.push(healthyDefaultRoute({ gateway: '198.18.0.254', inUse: false, metric: 200 }));
  obs.dns!.resolvers.servers = ['198.18.0.53', '127.0.0.53'];
  obs.dns!.containers = healthyContainers({ addresses: ['198.18.0.53', '198.18.1.54'] });
  obs.firewall!.endpoints.push(endpoint(443, { host: 'dps.example', address: '198.18.1.10' }));
  obs.firewall!.endpoints.push(endpoint(443, { host: 'unresolved.example', address: null, outcome: 'unresolved' }));
  obs.proxy = { url: 'http://user:****@198.18.1.30:3128', source: 'cli', sources: [], connect: [] };
  const rows = neededRoutes(obs).map((r) => `${r.destination} ${r.needs.join('+')} [${r.names.join(',')}] ${r.kind}`);
  assert.deepEqual(rows, [
    '198.18.0.1 gateway [] on-link',
    '198.18.0.254 gateway [] on-link',
    '198.18.0.53 dns+container-dns [] on-link',
    '198.18.1.54 container-dns [] gateway',
    '198.18.1.10 endpoint [lab-hub.azure-devices.net,dps.example] gateway',
    '198.18.1.30 proxy [] gateway',
  ]);
});

test("a destination inside a bridge is routed into it (bridge: true); the VM's own address is local", () => {
  const obs = healthy();
  withBridge(obs, bridge('docker0', '198.18.1.9', 29));
  obs.dns!.resolvers.servers = ['198.18.0.10'];
  obs.dns!.containers = null;
  const rows = neededRoutes(obs);
  const hub = rows.find((r) => r.destination === '198.18.1.10');
  assert.deepEqual(
    { kind: hub?.kind, interface: hub?.interface, matched: hub?.matched, bridge: hub?.bridge },
    { kind: 'on-link', interface: 'docker0', matched: '198.18.1.8/29', bridge: true },
  );
  const self = rows.find((r) => r.destination === '198.18.0.10');
  assert.equal(self?.kind, 'local');
  assert.equal(self?.interface, 'eth0');
});

test('longest prefix over metric, and IPv6 destinations too', () => {
  const obs = healthy();
  obs.ip!.routeTable.push(route('198.18.1.0', 24, { gateway: '198.18.0.2', metric: 500 }));
  obs.ip!.routeTable.push(route('::', 0, { family: 6, gateway: 'fe80::1', interface: 'eth0', metric: 1024 }));
  obs.dns!.resolvers.servers = ['2001:db8::53'];
  obs.dns!.containers = null;
  const rows = neededRoutes(obs);
  assert.equal(rows.find((r) => r.destination === '198.18.1.10')?.gateway, '198.18.0.2');
  const v6 = rows.find((r) => r.destination === '2001:db8::53');
  assert.deepEqual([v6?.kind, v6?.gateway, v6?.matched], ['gateway', 'fe80::1', 'default']);
});

test('no table read: no rows; no IP layer: no rows', () => {
  const obs = healthy();
  obs.ip!.routeTable = [];
  obs.ip!.routesObserved = false;
  assert.deepEqual(neededRoutes(obs), []);
  obs.ip = null;
  assert.deepEqual(neededRoutes(obs), []);
});

test('proxyAddress: the host of an http URL when it is an address, masked credentials or not', () => {
  assert.equal(proxyAddress('http://198.18.1.30:3128'), '198.18.1.30');
  assert.equal(proxyAddress('http://u:****@198.18.1.30:3128/'), '198.18.1.30');
  assert.equal(proxyAddress('http://[2001:db8::30]:3128'), '2001:db8::30');
  assert.equal(proxyAddress('http://proxy.contoso.local:3128'), null);
  assert.equal(proxyAddress('not a url'), null);
  assert.equal(proxyAddress(null), null);
});
