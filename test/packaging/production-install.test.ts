/**
 * The image's contents without Docker: the sources compiled the way the build stage compiles them,
 * then package.json, package-lock.json, dist/ and schema/ in a fresh folder with
 * `npm ci --omit=dev --ignore-scripts` — exactly what the runtime stage holds. That folder must run
 * the CLI and the module on production dependencies alone, also as uid 1000 (the image's user),
 * where ping works only through a file capability, as it does in the image.
 *
 * Everything that probes the network runs in a fresh network namespace (test/packaging/netns.ts):
 * a check pings the machine's default gateway even when asked about `lo`, and asks the configured
 * resolvers, so outside a namespace it would touch the real network.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerfileNodeMajor } from '../../scripts/dockerfile.mjs';
import type { Report } from '../../src/report/types.js';
import { findTool } from '../lab/require-lab.js';
import { skipOrFail } from '../support/prerequisites.js';
import { assertValidReport } from '../support/report-schema.js';
import { ROOT, objectAt, readJson } from './manifest.js';
import type { ModuleRunOutcome } from './module-in-netns.js';
import { IMAGE_UID, LAB_GATEWAY, asUser, cleanEnv, inFreshNetns, requireNetns, runToEnd, setcapPath } from './netns.js';

const pkg = readJson('package.json');
const dockerfileText = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const lock = readJson('package-lock.json');
const netnsSkip = requireNetns();

/** Environment for npm: the user's npm configuration and cache, none of an enclosing `npm test`'s lifecycle variables. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^npm_(lifecycle|package|command|config_omit|config_include|config_production)/i.test(k),
    ),
  );
}

/**
 * Installs from the npm cache only when it can (no network at all); a cache that lacks a package
 * falls back to the registry for it, like `--prefer-offline` on a fresh CI machine after `npm install`.
 */
function npmCiProduction(dir: string): string {
  const base = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  const run = (mode: string) =>
    spawnSync('npm', [...base, mode], { cwd: dir, env: npmEnv(), encoding: 'utf8', timeout: 240_000 });
  let r = run('--offline');
  let note = 'installed from the npm cache (--offline)';
  if (r.status !== 0 && /ENOTCACHED/.test(`${r.stdout}${r.stderr}`)) {
    r = run('--prefer-offline');
    note = 'the npm cache lacked a package: installed with --prefer-offline';
  }
  assert.equal(r.status, 0, `npm ci --omit=dev failed:\n${r.stdout}\n${r.stderr}`);
  return note;
}

/** Every installed package folder, as lockfile keys (`node_modules/a`, `node_modules/@s/b`, `node_modules/a/node_modules/c`). */
function installedPackages(dir: string, prefix = 'node_modules'): string[] {
  const base = join(dir, prefix);
  if (!existsSync(base)) return [];
  const found: string[] = [];
  for (const name of readdirSync(base)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@') ? readdirSync(join(base, name)).map((n) => `${name}/${n}`) : [name];
    for (const n of names) {
      const key = `${prefix}/${n}`;
      if (existsSync(join(dir, key, 'package.json'))) found.push(key);
      found.push(...installedPackages(dir, `${key}/node_modules`));
    }
  }
  return found;
}

function parseReport(stdout: string): Report {
  let report: unknown;
  assert.doesNotThrow(() => (report = JSON.parse(stdout)), `stdout is one JSON document:\n${stdout.slice(0, 2000)}`);
  assertValidReport(report);
  return report as Report;
}

const codes = (r: Report) => r.findings.map((f) => f.code);

describe('production install (what the image holds)', () => {
  let dir = '';
  let installNote = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-prod-'));
    // The build stage's `npm run build` is `tsc -p tsconfig.build.json`; compiling into the
    // temp folder leaves the shared working tree's dist/ alone.
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}\n${tsc.stderr}`);
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, file), join(dir, file));
    cpSync(join(ROOT, 'schema'), join(dir, 'schema'), { recursive: true });
    installNote = npmCiProduction(dir);
    // The image's files are root-owned and world-readable; the non-root runs below need the same.
    execFileSync('chmod', ['-R', 'a+rX', dir]);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('holds exactly the production dependency tree of the lockfile, no devDependency', (t) => {
    t.diagnostic(installNote);
    const packages = (lock['packages'] ?? {}) as Record<string, { dev?: boolean; optional?: boolean }>;
    const expected = Object.entries(packages)
      .filter(([k, v]) => k !== '' && !v.dev && !v.optional)
      .map(([k]) => k)
      .sort();
    const devOnly = new Set(
      Object.entries(packages)
        .filter(([, v]) => v.dev)
        .map(([k]) => k),
    );
    const installed = installedPackages(dir).sort();
    assert.ok(expected.length > 0);
    assert.deepEqual(
      installed.filter((k) => devOnly.has(k)),
      [],
      'no dev-only package is installed',
    );
    assert.deepEqual(installed, expected, 'exactly the non-dev packages of package-lock.json');
    for (const name of ['typescript', 'tsx', 'aedes', 'ajv', 'ajv-formats', 'esbuild']) {
      assert.ok(!existsSync(join(dir, 'node_modules', name)), `${name} (a devDependency or its tool) is absent`);
    }
    for (const name of Object.keys((pkg['dependencies'] ?? {}) as Record<string, string>)) {
      assert.ok(existsSync(join(dir, 'node_modules', name, 'package.json')), `dependency ${name} is installed`);
    }
  });

  test("`node dist/main.js --version` prints package.json's version", () => {
    const r = spawnSync(process.execPath, ['dist/main.js', '--version'], {
      cwd: dir,
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg['version']);
  });

  test('`node dist/main.js --help` exits 0 and names both commands', () => {
    const r = spawnSync(process.execPath, ['dist/main.js', '--help'], {
      cwd: dir,
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\bcheck\b/);
    assert.match(r.stdout, /\bmodule\b/);
  });

  describe('a check in a fresh network namespace', { skip: netnsSkip }, () => {
    let scratch = '';
    before(() => {
      scratch = mkdtempSync(join(dir, 'scratch-'));
      writeFileSync(join(scratch, 'no-servers.conf'), '# no nameserver line\nsearch example.invalid\n');
      writeFileSync(join(scratch, 'loopback-server.conf'), 'nameserver 127.0.0.1\n');
      execFileSync('chmod', ['-R', 'a+rX', scratch]);
    });

    const checkArgs = (resolvConf: string) => [
      process.execPath,
      'dist/main.js',
      'check',
      '--json',
      '--interface',
      'lo',
      '--resolv-conf',
      join(scratch, resolvConf),
      '--resolved-conf',
      join(scratch, 'absent'),
      '--networkd-dir',
      join(scratch, 'absent'),
      '--leases-dir',
      join(scratch, 'absent'),
      '--aziot-config',
      '/nonexistent',
      '--hub',
      'localhost',
      // No public default (DPS, MCR) and no host proxy settings.
      '--dps',
      'localhost',
      '--registry',
      'localhost',
      '--systemd-dir',
      join(scratch, 'absent'),
      '--timeout',
      '300',
      '--deadline',
      '2000',
    ];

    async function check(argv: string[], env: Record<string, string> = {}) {
      const { cmd, args } = inFreshNetns(argv, { defaultRoute: true });
      return runToEnd(cmd, args, { env: cleanEnv(env), cwd: dir, timeoutMs: 60_000 });
    }

    function assertNoServersVerdict(r: Awaited<ReturnType<typeof check>>): void {
      assert.doesNotMatch(r.stderr, /internal error/);
      const report = parseReport(r.stdout);
      assert.equal(r.code, 2, `exit 2 (unhealthy); stderr:\n${r.stderr}`);
      assert.equal(report.status, 'unhealthy');
      assert.equal(report.failingComponent, 'dns');
      assert.ok(codes(report).includes('DNS_NO_SERVERS'), `findings: ${codes(report).join(', ')}`);
      assert.equal(
        report.components.ip.defaultGateway?.address,
        LAB_GATEWAY,
        "the only gateway probed is the namespace's",
      );
      assert.deepEqual(report.components.firewall.endpoints.map((e) => `${e.host}:${e.port}`).sort(), [
        'localhost:443',
        'localhost:5671',
        'localhost:8883',
      ]);
    }

    test('as root: a schema-valid Report, DNS_NO_SERVERS, exit 2', async () => {
      assertNoServersVerdict(await check(checkArgs('no-servers.conf')));
    });

    test(`as uid ${IMAGE_UID} (the image's user): the same verdict`, async () => {
      assertNoServersVerdict(await check(asUser(checkArgs('no-servers.conf'))));
    });

    test(`as uid ${IMAGE_UID}: ping works through cap_net_raw on the binary, and without it is reported as not-permitted`, async (t) => {
      const systemPing = findTool('ping');
      const setcap = setcapPath();
      if (!systemPing || !setcap) {
        const why = `needs ${systemPing ? '' : 'ping (iputils-ping) '}${setcap ? '' : 'setcap (libcap2-bin)'}`.trim();
        skipOrFail(t, why);
        return;
      }
      // Both copies are named `ping`, as in the image; only one carries the capability.
      for (const variant of ['with-cap', 'without-cap']) {
        mkdirSync(join(scratch, variant));
        copyFileSync(systemPing, join(scratch, variant, 'ping')); // a copy carries no capability or setuid bit
      }
      execFileSync(setcap, ['cap_net_raw+ep', join(scratch, 'with-cap', 'ping')]);
      execFileSync('chmod', ['-R', 'a+rX', scratch]);

      const withCap = await check(asUser(checkArgs('loopback-server.conf')), {
        NETDIAG_PING: join(scratch, 'with-cap', 'ping'),
      });
      const withoutCap = await check(asUser(checkArgs('loopback-server.conf')), {
        NETDIAG_PING: join(scratch, 'without-cap', 'ping'),
      });
      for (const [label, r] of [
        ['with', withCap],
        ['without', withoutCap],
      ] as const) {
        assert.doesNotMatch(r.stderr, /internal error/, `${label} the capability`);
        const report = parseReport(r.stdout);
        assert.equal(r.code, 2, `${label} the capability: the only DNS server does not answer queries → exit 2`);
        assert.equal(report.components.dns.servers.length, 1);
      }
      const pingWith = parseReport(withCap.stdout).components.dns.servers[0]?.ping;
      const pingWithout = parseReport(withoutCap.stdout).components.dns.servers[0]?.ping;
      assert.ok(
        pingWith && 'received' in pingWith && pingWith.received > 0,
        `with cap_net_raw 127.0.0.1 answers: ${JSON.stringify(pingWith)}`,
      );
      assert.ok(pingWithout && 'error' in pingWithout, `without it ping cannot run: ${JSON.stringify(pingWithout)}`);
      assert.equal(pingWithout.error, 'not-permitted');
    });
  });

  test(
    `\`node dist/main.js module\` as uid ${IMAGE_UID} connects to edgeHub, reports to the twin, answers a schema-valid Report, logs IoT Edge lines, and exits 0 on SIGTERM`,
    { skip: netnsSkip },
    async () => {
      const scratch = mkdtempSync(join(dir, 'module-'));
      writeFileSync(join(scratch, 'resolv.conf'), '');
      execFileSync('chmod', ['-R', 'a+rX', scratch]);
      // The deployment's desired properties become the twin the module finds at start.
      const desired = objectAt(readJson('deployment.template.json'), 'modulesContent', 'netdiag', 'properties.desired');
      const helper = join(ROOT, 'test/packaging/module-in-netns.ts');
      const { cmd, args } = inFreshNetns([
        process.execPath,
        '--import',
        'tsx',
        helper,
        dir,
        JSON.stringify(desired),
        scratch,
      ]);
      const r = await runToEnd(cmd, args, { env: cleanEnv({ HOME: tmpdir() }), cwd: ROOT, timeoutMs: 120_000 });
      assert.equal(r.code, 0, `the helper ran to the end:\n${r.stderr}`);
      const outcome = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? 'null') as ModuleRunOutcome;
      const context = `errors: ${outcome.errors.join('; ')}\nmodule output:\n${outcome.output}`;
      assert.deepEqual(outcome.errors, [], context);
      assert.equal(outcome.connected, true, context);
      assert.equal(outcome.clientId, 'lab-edge-device/netdiag');
      assert.deepEqual(
        outcome.uids,
        [IMAGE_UID, IMAGE_UID, IMAGE_UID, IMAGE_UID],
        "the module ran as the image's user",
      );
      assert.equal(outcome.reportedStatus, true);

      const reported = outcome.twin?.reported ?? {};
      assert.equal(reported['schemaVersion'], 1);
      assert.ok(
        ['healthy', 'degraded', 'unhealthy'].includes(String(reported['status'])),
        `reported status ${String(reported['status'])}`,
      );
      for (const key of Object.keys(desired)) {
        const ack = reported[key] as { ac?: number; value?: unknown } | undefined;
        assert.equal(ack?.ac, 200, `the deployment's ${key} was accepted: ${JSON.stringify(ack)}`);
        assert.deepEqual(ack?.value, desired[key]);
      }

      assert.equal(
        outcome.event?.outputName,
        'diagnostics',
        'telemetry leaves on the output the deployment routes to $upstream',
      );
      assert.equal(outcome.event?.contentType, 'application/json');
      assert.ok(outcome.event && 'status' in outcome.event.properties, 'routing can filter on the status property');

      assert.equal(outcome.lastReport?.status, 200, JSON.stringify(outcome.lastReport).slice(0, 500));
      assertValidReport(outcome.lastReport?.payload);
      const report = outcome.lastReport?.payload as Report;
      assert.equal(report.checkId, (outcome.event?.body as { checkId?: string } | null)?.checkId);
      assert.ok(outcome.logLines > 0, 'the module logged');
      // V8 before Node 26 prints one line of its own for --jitless (the image's NODE_OPTIONS), before
      // any JavaScript runs; the image's Node does not (scripts/test-node-lts.sh runs this there).
      const v8Warning = 'Warning: disabling flag --expose_wasm due to conflicting flags';
      const imageNode = Number(process.versions.node.split('.')[0]) === dockerfileNodeMajor(dockerfileText);
      assert.deepEqual(
        outcome.strayLines.filter((l) => imageNode || l !== v8Warning),
        [],
        'every line is an IoT Edge log line (the default format)',
      );
      assert.deepEqual(outcome.exit, { code: 0, signal: null }, context);
    },
  );
});
