/**
 * Checks the lab itself, with an independent prober (ns-probe.ts) and the plain system tools, not
 * with the code under test: the topology is what LAB.md describes, the servers answer, each fault
 * does what it claims, and nothing is left behind afterwards, pass or fail.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  createLab,
  HUB_NAME,
  LabSetupError,
  INSPECTION_CA_NAME,
  LAB_ADDR,
  LAB_CA_NAME,
  resolvConf,
} from './harness.js';
import type { Lab } from './harness.js';
import { listLabNetns, NETNS_DIR, sweepLeftovers } from './lab-names.js';
import { exec, ipPath, run } from './lab-process.js';
import type { NsProbe } from './ns-probe.js';
import { requireLab } from './require-lab.js';

const skip = requireLab();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tlsTo(lab: Lab, port: number): NsProbe {
  return { kind: 'tls', host: LAB_ADDR.hub, port, servername: HUB_NAME, caFile: lab.paths.caFile, timeoutMs: 1500 };
}

async function withLab(options: Parameters<typeof createLab>[0], body: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = await createLab(options);
  try {
    await body(lab);
  } catch (err) {
    if (err instanceof Error) {
      // node:test prints the stack, which was fixed when the error was made.
      err.stack = `${err.stack ?? ''}\nserver logs:\n${lab.serverLogs()}`;
    }
    throw err;
  } finally {
    await lab.destroy();
  }
}

describe('namespace lab harness', { skip, concurrency: 3, timeout: 120_000 }, () => {
  test('topology: eth0 in the vm, gateway and servers in net, nothing outside 198.18.0.0/15', async () => {
    await withLab({}, async (lab) => {
      assert.ok(lab.vmNs.length <= 15 && lab.netNs.length <= 15, `names too long: ${lab.vmNs} ${lab.netNs}`);
      const vmLinks = JSON.parse(await lab.ip('vm', ['-j', 'link', 'show'])) as Array<{
        ifname: string;
        ifindex: number;
      }>;
      assert.deepEqual(vmLinks.map((l) => l.ifname).sort(), ['eth0', 'lo']);
      assert.equal(vmLinks.find((l) => l.ifname === 'eth0')?.ifindex, lab.vmIfindex);
      // The net side holds only the gateway end, and its peer is the vm's eth0: no path to the host.
      const netLinks = JSON.parse(await lab.ip('net', ['-j', 'link', 'show'])) as Array<{
        ifname: string;
        link_netnsid?: number;
      }>;
      assert.deepEqual(netLinks.map((l) => l.ifname).sort(), ['gw0', 'lo']);
      const peerNsid = netLinks.find((l) => l.ifname === 'gw0')?.link_netnsid;
      const ids = await lab.ip('net', ['netns', 'list-id']);
      assert.match(ids, new RegExp(`nsid ${peerNsid} \\(iproute2 netns name: ${lab.vmNs}\\)`));
      const vmAddrs = await lab.ip('vm', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.match(vmAddrs, /inet 198\.18\.0\.10\/24/);
      const vmRoutes = (await lab.ip('vm', ['-4', 'route', 'show'])).trim().split('\n');
      assert.deepEqual(vmRoutes.map((r) => r.split(' ').slice(0, 3).join(' ')).sort(), [
        '198.18.0.0/24 dev eth0',
        'default via 198.18.0.1',
      ]);
      // Every address in either namespace is loopback or inside the benchmarking range.
      for (const side of ['vm', 'net'] as const) {
        const addrs = JSON.parse(await lab.ip(side, ['-4', '-j', 'addr', 'show'])) as Array<{
          addr_info: Array<{ local: string }>;
        }>;
        for (const a of addrs.flatMap((l) => l.addr_info)) {
          assert.match(a.local, /^(127\.|198\.1[89]\.)/, `${side} holds ${a.local}`);
        }
        const forwarding = await lab.exec(side, 'cat', ['/proc/sys/net/ipv4/ip_forward']);
        assert.equal(forwarding.stdout.trim(), '0', `forwarding on in ${side}`);
      }
      // The system resolver inside the vm is the lab's own (bind-mounted by ip netns exec).
      const resolv = await lab.exec('vm', 'cat', ['/etc/resolv.conf']);
      assert.equal(resolv.stdout, resolvConf(LAB_ADDR.dns));
      assert.ok(existsSync(join(lab.paths.leasesDir, String(lab.vmIfindex))), 'lease file named by ifindex');
      assert.ok(existsSync(join(lab.paths.networkdDir, '10-eth0.network')));
      assert.ok(!existsSync(lab.paths.aziotConfig));
      const gw = await lab.exec('vm', 'ping', ['-c', '1', '-W', '2', LAB_ADDR.gateway]);
      assert.equal(gw.code, 0, `gateway ping failed: ${gw.stdout}${gw.stderr}`);
    });
  });

  test('servers: dnsmasq answers, the system resolver uses it, the hub is trusted on 8883, 5671 and 443', async () => {
    await withLab({}, async (lab) => {
      const [a, aaaa, missing, tls8883, tls5671, tls443] = await lab.probe('vm', [
        { kind: 'dns', server: LAB_ADDR.dns, name: HUB_NAME, type: 'A', timeoutMs: 1500 },
        { kind: 'dns', server: LAB_ADDR.dns, name: HUB_NAME, type: 'AAAA', timeoutMs: 1500 },
        { kind: 'dns', server: LAB_ADDR.dns, name: 'no-such-hub.azure-devices.net', type: 'A', timeoutMs: 1500 },
        tlsTo(lab, 8883),
        tlsTo(lab, 5671),
        tlsTo(lab, 443),
      ]);
      assert.deepEqual(a, { kind: 'dns', outcome: 'answered', rcode: 'NOERROR', answers: [LAB_ADDR.hub] });
      assert.deepEqual(aaaa, { kind: 'dns', outcome: 'answered', rcode: 'NOERROR', answers: [] });
      assert.deepEqual(missing, { kind: 'dns', outcome: 'answered', rcode: 'NXDOMAIN', answers: [] });
      for (const r of [tls8883, tls5671, tls443]) {
        assert.deepEqual(r, {
          kind: 'tls',
          outcome: 'handshake',
          authorized: true,
          authorizationError: null,
          issuer: LAB_CA_NAME,
        });
      }
      const lookup = await lab.exec('vm', 'getent', ['ahostsv4', HUB_NAME]);
      assert.equal(lookup.code, 0, lookup.stderr);
      assert.match(lookup.stdout, /^198\.18\.1\.10\s/);
    });
  });

  test('faults: drop times out, reject refuses, other ports and ping unaffected', async () => {
    await withLab({}, async (lab) => {
      await lab.drop({ protocol: 'tcp', address: LAB_ADDR.hub, port: 8883 });
      await lab.reject({ protocol: 'tcp', address: LAB_ADDR.hub, port: 5671 });
      await lab.drop({ protocol: 'dns', address: LAB_ADDR.dns });
      const [t8883, t5671, t443, dns] = await lab.probe('vm', [
        { kind: 'tcp', host: LAB_ADDR.hub, port: 8883, timeoutMs: 800 },
        { kind: 'tcp', host: LAB_ADDR.hub, port: 5671, timeoutMs: 800 },
        { kind: 'tcp', host: LAB_ADDR.hub, port: 443, timeoutMs: 800 },
        { kind: 'dns', server: LAB_ADDR.dns, name: HUB_NAME, type: 'A', timeoutMs: 800 },
      ]);
      assert.deepEqual(t8883, { kind: 'tcp', outcome: 'timeout' });
      assert.deepEqual(t5671, { kind: 'tcp', outcome: 'error', code: 'ECONNREFUSED' });
      assert.deepEqual(t443, { kind: 'tcp', outcome: 'connected' });
      assert.deepEqual(dns, { kind: 'dns', outcome: 'timeout' });
      // The DNS server's host still answers ping: the "pings but drops 53" fault.
      const ping = await lab.exec('vm', 'ping', ['-c', '1', '-W', '2', LAB_ADDR.dns]);
      assert.equal(ping.code, 0, ping.stdout);
      await lab.drop({ protocol: 'icmp', address: LAB_ADDR.dns });
      const dropped = await lab.exec('vm', 'ping', ['-c', '1', '-W', '1', LAB_ADDR.dns]);
      assert.notEqual(dropped.code, 0, 'ping got through an icmp drop rule');
    });
  });

  test('faults: everything dropped from the vm side, interface and address changes', async () => {
    await withLab({}, async (lab) => {
      await lab.drop({ protocol: 'all', ns: 'vm' });
      const [tcp, dns] = await lab.probe('vm', [
        { kind: 'tcp', host: LAB_ADDR.hub, port: 443, timeoutMs: 800 },
        { kind: 'dns', server: LAB_ADDR.dns, name: HUB_NAME, type: 'A', timeoutMs: 800 },
      ]);
      // Dropped on output, a local sender sees EPERM at once rather than a timeout.
      assert.notEqual(tcp?.outcome, 'connected');
      assert.notEqual(dns?.outcome, 'answered');
      await lab.deleteDefaultRoute();
      assert.doesNotMatch(await lab.ip('vm', ['route', 'show']), /default/);
      await lab.flushAddresses();
      assert.doesNotMatch(await lab.ip('vm', ['-4', 'addr', 'show', 'dev', 'eth0']), /inet /);
      await lab.linkDown();
      assert.doesNotMatch(await lab.ip('vm', ['link', 'show', 'dev', 'eth0']), /[<,]UP[,>]/);
      await lab.deleteInterface();
      const gone = await exec(ipPath(), ['-n', lab.vmNs, 'link', 'show', 'dev', 'eth0']);
      assert.notEqual(gone.code, 0);
    });
  });

  test('hub modes: untrusted chain names the inspection CA; close cuts before TLS', async () => {
    await withLab({ hub: { ports: { 443: 'untrusted', 5671: 'close', 8883: 'reset' } } }, async (lab) => {
      const [t443, t5671, t8883, tcp5671] = await lab.probe('vm', [
        tlsTo(lab, 443),
        tlsTo(lab, 5671),
        tlsTo(lab, 8883),
        { kind: 'tcp', host: LAB_ADDR.hub, port: 5671, timeoutMs: 800 },
      ]);
      assert.equal(t443?.outcome, 'handshake');
      assert.ok(
        t443?.outcome === 'handshake' && !t443.authorized && t443.issuer === INSPECTION_CA_NAME,
        JSON.stringify(t443),
      );
      assert.equal(t5671?.outcome, 'error', JSON.stringify(t5671));
      assert.equal(t8883?.outcome, 'error', JSON.stringify(t8883));
      assert.deepEqual(tcp5671, { kind: 'tcp', outcome: 'connected' });
    });
  });

  test('servers: a stub dnsmasq on 127.0.0.53 in the vm forwards to the lab DNS', async () => {
    await withLab({ resolvConf: resolvConf('127.0.0.53') }, async (lab) => {
      await lab.startDnsmasq({ ns: 'vm', address: '127.0.0.53', upstream: LAB_ADDR.dns });
      const lookup = await lab.exec('vm', 'getent', ['ahostsv4', HUB_NAME]);
      assert.equal(lookup.code, 0, lookup.stderr);
      assert.match(lookup.stdout, /^198\.18\.1\.10\s/);
    });
  });

  test('servers: the scriptable DNS server answers REFUSED from inside the net namespace', async () => {
    await withLab({ dnsmasq: [], scriptedDns: [{ address: LAB_ADDR.dns, mode: 'refused' }] }, async (lab) => {
      const [r] = await lab.probe('vm', [
        { kind: 'dns', server: LAB_ADDR.dns, name: HUB_NAME, type: 'A', timeoutMs: 1500 },
      ]);
      assert.deepEqual(r, { kind: 'dns', outcome: 'answered', rcode: 'REFUSED', answers: [] });
    });
  });

  test('destroy leaves nothing: namespaces, /etc/netns, temp dir, CA dirs, servers', async () => {
    const lab = await createLab({ scriptedDns: [], serverAddresses: [LAB_ADDR.nowhere] });
    const pids = lab.servers.map((s) => s.pid);
    assert.ok(pids.length >= 2, 'expected dnsmasq and the hub to be running');
    const paths = [lab.paths.dir, join(NETNS_DIR, lab.vmNs), lab.ca.dir, lab.inspectionCa.dir];
    for (const p of paths) assert.ok(existsSync(p), `${p} should exist while the lab runs`);
    await lab.destroy();
    const namespaces = listLabNetns();
    assert.ok(!namespaces.includes(lab.vmNs) && !namespaces.includes(lab.netNs), `left: ${namespaces.join(' ')}`);
    for (const p of paths) assert.ok(!existsSync(p), `${p} left behind`);
    for (const pid of pids) assert.ok(!pidAlive(pid), `server pid ${pid} still running`);
    await lab.destroy(); // idempotent
  });

  test('a failed setup cleans up what it had made', async () => {
    // Two dnsmasq on one address: the second cannot bind and exits before it is ready.
    const err: unknown = await createLab({ dnsmasq: [{ address: LAB_ADDR.dns }, { address: LAB_ADDR.dns }] }).then(
      () => assert.fail('createLab should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LabSetupError, String(err));
    assert.match(String(err.cause), /dnsmasq .* exited before it was ready/);
    const namespaces = listLabNetns();
    assert.ok(!namespaces.includes(err.vmNs) && !namespaces.includes(err.netNs), `left: ${namespaces.join(' ')}`);
    assert.ok(!existsSync(err.dir));
    assert.ok(!existsSync(join(NETNS_DIR, err.vmNs)));
  });

  test('startup sweep removes leftovers of a dead run, including its servers, and spares live ones', async () => {
    // A process that has exited provides a pid that is certainly dead.
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = dead.pid ?? 0;
    await new Promise((resolve) => dead.once('exit', resolve));
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const livePid = live.pid ?? 0;
    const deadNs = `ndl${deadPid}-zzzv`;
    const liveNs = `ndl${livePid}-zzzv`;
    const deadTmp = mkdtempSync(join(tmpdir(), `ndl${deadPid}-zzz-`));
    let orphanPid = 0;
    try {
      await run(ipPath(), ['netns', 'add', deadNs]);
      await run(ipPath(), ['netns', 'add', liveNs]);
      mkdirSync(join(NETNS_DIR, deadNs), { recursive: true });
      writeFileSync(join(NETNS_DIR, deadNs, 'resolv.conf'), 'nameserver 198.18.1.53\n');
      // An orphaned server inside the leftover namespace, as a crashed run would leave.
      const orphan = spawn(ipPath(), ['netns', 'exec', deadNs, process.execPath, '-e', 'setTimeout(() => {}, 60000)'], {
        stdio: 'ignore',
        detached: true,
      });
      orphan.unref();
      orphanPid = orphan.pid ?? 0;
      const orphanExited = new Promise((resolve) => orphan.once('exit', resolve));
      // Wait until the orphan really is inside the namespace (ip netns exec has exec'd node).
      for (let i = 0; i < 200 && !(await run(ipPath(), ['netns', 'pids', deadNs])).includes(String(orphanPid)); i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }

      const removed = sweepLeftovers();
      assert.ok(removed.includes(`netns ${deadNs}`), `sweep said: ${removed.join(', ')}`);
      assert.ok(!listLabNetns().includes(deadNs));
      assert.ok(listLabNetns().includes(liveNs), 'a live owner’s namespace must be spared');
      assert.ok(!existsSync(join(NETNS_DIR, deadNs)));
      assert.ok(!existsSync(deadTmp));
      await orphanExited;
      assert.ok(!pidAlive(orphanPid), 'the orphaned server was not killed');
    } finally {
      live.kill('SIGKILL');
      if (orphanPid > 0 && pidAlive(orphanPid)) process.kill(orphanPid, 'SIGKILL');
      await exec(ipPath(), ['netns', 'delete', deadNs]);
      await exec(ipPath(), ['netns', 'delete', liveNs]);
    }
  });
});
