/**
 * What the Dockerfile does to ping and arping, done for real without Docker: the runtime stage's
 * own loop (read from the Dockerfile, run with sh) on copies of this machine's iputils binaries,
 * the ping copy made setuid root first as Alpine ships /bin/ping (aports main/iputils installs it
 * 4755; arping 0755 and without a capability). Afterwards each must be mode 0755 with
 * cap_net_raw=ep, and work for uid 1000 in a fresh network namespace with only NET_RAW in its
 * bounding set and no capability of its own: what Docker gives the module with `CapDrop: ALL`,
 * `CapAdd: NET_RAW` and `USER node`. The untouched copies, run the same way, must fail: the
 * capability on the file is what makes them work.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runtimeLoops } from '../../scripts/dockerfile.mjs';
import { findTool } from '../lab/require-lab.js';
import { ROOT } from './manifest.js';
import { IMAGE_UID, cleanEnv, requireNetns, runToEnd, setcapPath } from './netns.js';

const TOOLS = ['ping', 'arping'] as const;
const netnsSkip = requireNetns();

function missingTools(): string[] {
  const missing: string[] = [];
  for (const name of [...TOOLS, 'getcap', 'setpriv', 'unshare', 'ip', 'sh', 'stat', 'readlink'])
    if (!findTool(name)) missing.push(name);
  if (!setcapPath()) missing.push('setcap');
  for (const name of TOOLS) {
    const path = findTool(name);
    if (path && !/iputils/.test(spawnSync(path, ['-V'], { encoding: 'utf8' }).stdout)) missing.push(`iputils ${name}`);
  }
  return missing;
}

function skipReason(): string | undefined {
  if (netnsSkip) return netnsSkip;
  const missing = missingTools();
  if (missing.length === 0) return undefined;
  const why = `needs ${missing.join(', ')} (iputils-ping, iputils-arping, libcap2-bin, util-linux)`;
  if (process.env['CI'] === 'true') {
    test('image file-mode prerequisites (required under CI=true)', () => assert.fail(why));
  }
  return why;
}

const skip = skipReason();

/** The file capabilities `getcap` reports, e.g. "cap_net_raw=ep", or '' for none. */
function getcap(path: string): string {
  const out = execFileSync(findTool('getcap') as string, [path], { encoding: 'utf8' }).trim();
  // libcap prints "PATH cap_net_raw=ep" (older: "PATH = cap_net_raw+ep").
  return out.startsWith(path) ? out.slice(path.length).replace(/^\s*=?\s*/, '') : out;
}

// In the namespace: loopback for ping, and a veth pair of two lab addresses for arping to ask
// across (accept_local lets the kernel answer an ARP request from an address of its own).
const PRELUDE = [
  'set -e',
  'ip link set dev lo up',
  'ip link add nd0 type veth peer name nd1',
  'ip addr add 198.18.0.2/24 dev nd0',
  'ip addr add 198.18.0.3/24 dev nd1',
  'echo 1 > /proc/sys/net/ipv4/conf/nd1/accept_local',
  'ip link set nd0 up',
  'ip link set nd1 up',
  'exec "$@"',
].join('\n');

/** `argv` as uid 1000 with Docker's capability sets for this deployment, in a fresh network namespace. */
async function asModuleUser(argv: string[]) {
  const setpriv = findTool('setpriv') as string;
  const asUser = [
    setpriv,
    `--reuid=${IMAGE_UID}`,
    `--regid=${IMAGE_UID}`,
    '--clear-groups',
    // CapDrop ALL + CapAdd NET_RAW: NET_RAW is the only capability the process can ever hold;
    // a non-root container user starts with none of it held or inheritable.
    '--bounding-set=-all,+net_raw',
    '--inh-caps=-all',
    '--pdeathsig=SIGKILL',
    '--',
    ...argv,
  ];
  return runToEnd(
    findTool('unshare') as string,
    ['--net', '--', findTool('sh') as string, '-c', PRELUDE, 'sh', ...asUser],
    {
      env: cleanEnv(),
      timeoutMs: 30_000,
    },
  );
}

describe("the image's file-mode steps for ping and arping, on copies", { skip }, () => {
  let dir = '';
  const processed = (tool: string) => join(dir, 'image', tool);
  const untouched = (tool: string) => join(dir, 'untouched', tool);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-modes-'));
    for (const sub of ['image', 'untouched']) mkdirSync(join(dir, sub));
    for (const tool of TOOLS) {
      const system = findTool(tool) as string;
      for (const path of [processed(tool), untouched(tool)]) copyFileSync(system, path); // no xattrs: no capability
      // As Alpine installs them: ping setuid root, arping plain.
      chmodSync(processed(tool), tool === 'ping' ? 0o4755 : 0o755);
      chmodSync(untouched(tool), 0o755);
    }
    chmodSync(dir, 0o755);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the Dockerfile's loop runs to the end on them (its own checks included)", () => {
    const [loop] = runtimeLoops(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    assert.ok(loop, 'the runtime stage has the loop');
    assert.deepEqual([...loop.words].sort(), [...TOOLS].sort());
    assert.equal(statSync(processed('ping')).mode & 0o7777, 0o4755, 'the ping copy starts setuid, as in Alpine');
    for (const tool of TOOLS) assert.equal(getcap(processed(tool)), '', `${tool} starts without a capability`);
    // PATH finds the copies first, exactly as `command -v` finds /bin/ping in the image.
    const setcapDir = (setcapPath() as string).replace(/\/[^/]+$/, '');
    const r = spawnSync(findTool('sh') as string, ['-c', `set -e; ${loop.script}`], {
      env: { PATH: `${join(dir, 'image')}:${setcapDir}:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: 'C' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, `the loop failed:\n${r.stdout}\n${r.stderr}`);
  });

  for (const tool of TOOLS) {
    test(`${tool}: mode 0755 (no setuid or setgid bit) and cap_net_raw=ep`, () => {
      assert.equal((statSync(processed(tool)).mode & 0o7777).toString(8), '755');
      assert.equal(getcap(processed(tool)), 'cap_net_raw=ep');
    });
  }

  test(`ping works as uid ${IMAGE_UID} with only NET_RAW in the bounding set; the untouched copy does not`, async () => {
    const ok = await asModuleUser([processed('ping'), '-c', '1', '-W', '2', '127.0.0.1']);
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /1 received/);
    const refused = await asModuleUser([untouched('ping'), '-c', '1', '-W', '2', '127.0.0.1']);
    assert.notEqual(refused.code, 0, 'without the file capability (and no ping_group_range) ping cannot run');
    assert.match(refused.stderr, /not permitted/i);
  });

  test(`arping works as uid ${IMAGE_UID} with only NET_RAW (an answer comes back); the untouched copy does not`, async () => {
    const ok = await asModuleUser([processed('arping'), '-c', '1', '-w', '3', '-I', 'nd0', '198.18.0.3']);
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /Received 1 response/);
    const refused = await asModuleUser([untouched('arping'), '-c', '1', '-w', '1', '-I', 'nd0', '198.18.0.3']);
    assert.equal(refused.code, 2, `${refused.stdout}\n${refused.stderr}`);
    assert.match(refused.stderr, /Operation not permitted/);
  });
});
