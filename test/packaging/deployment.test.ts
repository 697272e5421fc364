/**
 * deployment.template.json and module.json, checked against what edgeAgent, edgeHub and the IoT
 * Edge tooling accept (research: azure-iot-sdk-and-edgehub-protocol.md section 5) and against the
 * module's own code: the route names the module's real output, the default desired properties
 * pass the module's own validation and equal its defaults, and the binds are exactly the
 * directories the module reads (CONTRACT.md 6), never a file, never /etc/aziot/config.toml.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULTS } from '../../src/config/options.js';
import { OUTPUT_NAME } from '../../src/module/agent.js';
import { DESIRED_KEYS, MODULE_DEFAULTS, applyDesired, type AppliedDesired } from '../../src/module/desired.js';
import type { JsonValue } from '../../src/report/twin.js';
import { parseStages } from '../../scripts/dockerfile.mjs';
import {
  CREATE_OPTIONS_CHUNK,
  CREATE_OPTIONS_MAX_CHUNKS,
  IMAGE_REFERENCE,
  MODULEDIR_PLACEHOLDER,
  ROOT,
  chunkCreateOptions,
  isObject,
  objectAt,
  parseRoute,
  readJson,
  type Json,
} from './manifest.js';

const MODULE = 'netdiag';
/** The optional second copy of the image, on the azure-iot-edge network (CONTRACT.md 8.4). */
const CONTAINER_MODULE = 'netdiagContainer';
const manifest = readJson('deployment.template.json');
const moduleJson = readJson('module.json');
const pkg = readJson('package.json');
const content = objectAt(manifest, 'modulesContent');
const agent = objectAt(content, '$edgeAgent', 'properties.desired');
const hub = objectAt(content, '$edgeHub', 'properties.desired');
const userModules = objectAt(agent, 'modules');
const systemModules = objectAt(agent, 'systemModules');
const netdiag = objectAt(userModules, MODULE);
const netdiagCreate = objectAt(netdiag, 'settings', 'createOptions');
const hostConfig = objectAt(netdiagCreate, 'HostConfig');

const strings = (v: Json | undefined): string[] => {
  assert.ok(
    Array.isArray(v) && v.every((x) => typeof x === 'string'),
    `expected an array of strings, got ${JSON.stringify(v)}`,
  );
  return v;
};

describe('deployment manifest: edgeAgent', () => {
  test('is a template of the current format with edgeAgent, edgeHub and the module twin', () => {
    assert.equal(manifest['$schema-template'], '4.0.0');
    assert.deepEqual(Object.keys(content).sort(), ['$edgeAgent', '$edgeHub', MODULE, CONTAINER_MODULE].sort());
  });

  test('edgeAgent schemaVersion is 1.1 (edgeAgent refuses anything above 1.1; 1.6 is the runtime image, not a schema)', () => {
    assert.equal(agent['schemaVersion'], '1.1');
    const runtime = objectAt(agent, 'runtime');
    assert.equal(runtime['type'], 'docker');
    assert.equal(typeof objectAt(runtime, 'settings')['minDockerVersion'], 'string');
  });

  test('system modules: edgeAgent and edgeHub of the current LTS line, 1.6, edgeHub publishing 5671, 8883 and 443', () => {
    assert.deepEqual(Object.keys(systemModules).sort(), ['edgeAgent', 'edgeHub']);
    const agentImage = objectAt(systemModules, 'edgeAgent', 'settings')['image'];
    const hubImage = objectAt(systemModules, 'edgeHub', 'settings')['image'];
    const tag = (image: Json | undefined, repo: string) => {
      const m = new RegExp(`^mcr\\.microsoft\\.com/${repo}:(\\d+\\.\\d+)$`).exec(String(image));
      assert.ok(m, `${String(image)} is ${repo} from mcr.microsoft.com with a major.minor tag`);
      return m[1];
    };
    assert.equal(tag(agentImage, 'azureiotedge-agent'), tag(hubImage, 'azureiotedge-hub'));
    // 1.5 LTS went out of support on 2026-11-10; 1.6 LTS (to 2028-11-14) is what x64 EFLOW 1.6 runs.
    // Written out rather than iotedgedev's ${EDGE_RUNTIME_VERSION}, which has no default: unset,
    // it stays in the image name literally. ARM64 EFLOW (still 1.5) edits both tags (README).
    assert.equal(tag(agentImage, 'azureiotedge-agent'), '1.6');
    const edgeHub = objectAt(systemModules, 'edgeHub');
    assert.equal(edgeHub['status'], 'running');
    assert.equal(edgeHub['restartPolicy'], 'always');
    const bindings = objectAt(edgeHub, 'settings', 'createOptions', 'HostConfig', 'PortBindings');
    for (const port of ['5671', '8883', '443']) {
      assert.deepEqual(
        bindings[`${port}/tcp`],
        [{ HostPort: port }],
        `edgeHub publishes ${port} on the same host port`,
      );
    }
  });

  test(`the user module "${MODULE}", running and always restarted, its twin section under the same name`, () => {
    assert.deepEqual(Object.keys(userModules), [MODULE, CONTAINER_MODULE]);
    assert.match(MODULE, /^[A-Za-z0-9_]+$/, 'IoT Edge tooling accepts [A-Za-z0-9_] module names');
    assert.equal(netdiag['version'], '1.0');
    assert.equal(netdiag['type'], 'docker');
    assert.equal(netdiag['status'], 'running');
    assert.equal(netdiag['restartPolicy'], 'always');
    assert.ok(isObject(objectAt(content, MODULE, 'properties.desired')));
  });

  test(`the optional "${CONTAINER_MODULE}": the same image on the azure-iot-edge network, vantage container, stopped until wanted`, () => {
    const second = objectAt(userModules, CONTAINER_MODULE);
    assert.match(CONTAINER_MODULE, /^[A-Za-z0-9_]+$/);
    assert.equal(second['type'], 'docker');
    // Optional: deployed stopped (it costs a second twin and telemetry stream); "running" enables it.
    assert.equal(second['status'], 'stopped');
    assert.equal(second['restartPolicy'], 'always');
    assert.equal(objectAt(second, 'settings')['image'], objectAt(netdiag, 'settings')['image'], 'the same image');
    assert.deepEqual(objectAt(second, 'env'), { NETDIAG_VANTAGE: { value: 'container' } });
    const create = objectAt(second, 'settings', 'createOptions');
    const host = objectAt(create, 'HostConfig');
    // No NetworkMode and no EndpointsConfig: edgeAgent puts the module on the runtime's network
    // (azure-iot-edge), where edgeHub's own traffic goes through Docker's embedded DNS and NAT.
    assert.equal(host['NetworkMode'], undefined);
    assert.equal(create['NetworkingConfig'], undefined);
    assert.deepEqual(strings(host['CapDrop']), ['ALL']);
    assert.deepEqual(strings(host['CapAdd']), ['NET_RAW']);
    // Only the VM's CA store: the chains are verified against the VM's roots (CONTRACT.md 7.3); the
    // container's own resolv.conf and interfaces are what it examines.
    assert.deepEqual(strings(host['Binds']), [
      '/etc/pki/tls/certs:/etc/pki/tls/certs:ro',
      '/etc/pki/ca-trust:/etc/pki/ca-trust:ro',
    ]);
    assert.equal(host['Privileged'], undefined);
    assert.deepEqual(
      objectAt(content, CONTAINER_MODULE, 'properties.desired'),
      objectAt(content, MODULE, 'properties.desired'),
      'the same defaults',
    );
  });
});

describe('deployment manifest: createOptions', () => {
  const all = { ...systemModules, ...userModules };
  for (const [name, spec] of Object.entries(all)) {
    test(`${name}: an object that the tooling turns into at most ${CREATE_OPTIONS_MAX_CHUNKS} chunks of ${CREATE_OPTIONS_CHUNK} characters`, () => {
      assert.ok(isObject(spec));
      const createOptions = objectAt(spec, 'settings')['createOptions'];
      assert.ok(isObject(createOptions), 'createOptions is written as a JSON object, not a pre-escaped string');
      const text = JSON.stringify(createOptions);
      // iotedgedev measures Python's json.dumps output, which escapes non-ASCII: keep them equal.
      assert.match(text, /^[\x20-\x7e]*$/, "ASCII only, so the chunk sizes computed here are the tooling's");
      const chunks = chunkCreateOptions(createOptions);
      assert.ok(chunks.length <= CREATE_OPTIONS_MAX_CHUNKS, `${chunks.length} chunks`);
      assert.ok(chunks.every((c) => c.length <= CREATE_OPTIONS_CHUNK));
      assert.deepEqual(
        JSON.parse(chunks.join('')),
        createOptions,
        'edgeAgent joins the chunks back into the same object',
      );
    });
  }

  test('host networking the way edgeAgent accepts it: NetworkMode host AND NetworkingConfig.EndpointsConfig.host', () => {
    assert.equal(hostConfig['NetworkMode'], 'host');
    // Without EndpointsConfig edgeAgent attaches the module to the azure-iot-edge network, which
    // conflicts with NetworkMode host (InjectNetworkAliases in CombinedEdgeletConfigProvider.cs).
    const endpoints = objectAt(netdiagCreate, 'NetworkingConfig', 'EndpointsConfig');
    assert.deepEqual(Object.keys(endpoints), ['host']);
    assert.ok(isObject(endpoints['host']));
    assert.equal(hostConfig['PortBindings'], undefined, 'nothing to publish: the module listens on no port');
    assert.equal(netdiagCreate['ExposedPorts'], undefined);
  });

  test('capabilities: exactly the ones the image sets on ping (NET_RAW), everything else dropped, nothing privileged', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = parseStages(dockerfile).stages.at(-1);
    assert.ok(runtime);
    const setcaps = runtime.instructions
      .filter((i) => i.keyword === 'RUN')
      .flatMap((i) =>
        [...i.args.matchAll(/setcap\s+(?!-v)([a-z_,]+)\+e?i?p/g)].flatMap((m) => (m[1] ?? '').split(',')),
      );
    const imageCaps = [...new Set(setcaps.map((c) => c.replace(/^cap_/, '').toUpperCase()))].sort();
    assert.deepEqual(imageCaps, ['NET_RAW'], 'the image grants ping cap_net_raw and nothing else');
    // NET_ADMIN is not needed: the module only reads interfaces, routes and files, and ping needs
    // only a raw ICMP socket. The bounding set must still contain NET_RAW for the file capability.
    assert.deepEqual(strings(hostConfig['CapAdd']), imageCaps);
    assert.deepEqual(strings(hostConfig['CapDrop']), ['ALL']);
    assert.equal(hostConfig['Privileged'], undefined);
    assert.equal(hostConfig['Devices'], undefined);
    assert.equal(netdiagCreate['User'], undefined, "the image's non-root user is kept");
    // no-new-privileges would stop ping from gaining its file capability as the non-root user.
    const securityOpt = hostConfig['SecurityOpt'] === undefined ? [] : strings(hostConfig['SecurityOpt']);
    assert.ok(!securityOpt.some((o) => o.startsWith('no-new-privileges')), 'no-new-privileges would disable ping');
  });

  /** CONTRACT.md 6: each directory the module reads, and nothing else. */
  const BOUND_DIRECTORIES = [
    '/etc/systemd/network', // .network files: static or DHCP
    '/run/systemd/resolve', // resolved's upstream list (resolv.conf is replaced by rename: bind the directory)
    '/run/systemd/netif', // networkd's DHCP leases
    '/etc/docker', // daemon.json (dns, mtu, proxies)
    '/etc/systemd/system', // the proxy drop-ins of aziot-edged, aziot-identityd and docker
    '/etc/pki/tls/certs', // the VM's CA bundle, ca-bundle.crt, a symlink into…
    '/etc/pki/ca-trust', // …extracted/pem/tls-ca-bundle.pem, and the operator's source/anchors
  ];

  test('binds: exactly the directories the module reads, read-only, at the same path inside', () => {
    const binds = strings(hostConfig['Binds']);
    assert.equal(hostConfig['Mounts'], undefined, 'every host path goes through Binds, where ":ro" is checked here');
    const sources: string[] = [];
    for (const bind of binds) {
      const [source, target, options, ...rest] = bind.split(':');
      assert.equal(rest.length, 0, bind);
      assert.ok(source && target && options, `${bind} is source:target:options`);
      assert.deepEqual(options.split(','), ['ro'], `${bind} is read-only`);
      assert.ok(isAbsolute(source) && normalize(source) === source, `${bind}: absolute, normalised host path`);
      assert.equal(target, source, `${bind}: the module's default paths are the host's, so the path must not move`);
      sources.push(source);
    }
    assert.deepEqual([...sources].sort(), [...BOUND_DIRECTORIES].sort());
  });

  test('binds: directories only, never a file that may be absent (Docker would create a directory in its place)', () => {
    // A missing bind source is created as an empty directory: harmless for a directory, but a
    // directory at /etc/docker/daemon.json stops dockerd. So no bind may name a file, and the
    // files the module reads by default must sit inside a bound directory instead.
    for (const source of strings(hostConfig['Binds']).map((b) => b.split(':')[0] ?? '')) {
      assert.doesNotMatch(
        source,
        /\.(json|toml|conf|crt|pem|key|network|lease)$|\/resolv\.conf$/i,
        `${source} names a file`,
      );
      assert.ok(BOUND_DIRECTORIES.includes(source), `${source} is one of the directories of CONTRACT.md 6`);
    }
    const covered = (path: string) =>
      BOUND_DIRECTORIES.some((d) => path.startsWith(`${d}/`)) && !BOUND_DIRECTORIES.includes(path);
    for (const path of [
      DEFAULTS.resolvedConf,
      `${DEFAULTS.leasesDir}/2`,
      `${DEFAULTS.networkdDir}/10-eth0.network`,
      '/etc/docker/daemon.json',
      '/etc/systemd/system/aziot-edged.service.d/proxy.conf',
      '/etc/pki/tls/certs/ca-bundle.crt',
      '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
    ]) {
      assert.ok(covered(path), `${path} is read through the bind of its directory`);
    }
    // With NetworkMode host, Docker gives the container a copy of the host's /etc/resolv.conf (the
    // EFLOW VM's names the 127.0.0.53 stub, reachable in the host network namespace), and the live
    // upstream list comes from the /run/systemd/resolve bind. A single-file bind of /etc/resolv.conf
    // would pin the inode and go stale when resolved rewrites the file.
    assert.ok(!covered(DEFAULTS.resolvConf), 'no bind of /etc/resolv.conf');
  });

  test('binds: no IoT Edge secret, no runtime socket, nothing broader than needed', () => {
    for (const source of strings(hostConfig['Binds']).map((b) => b.split(':')[0] ?? '')) {
      assert.ok(
        !['/', '/etc', '/run', '/var/run', '/run/systemd', '/etc/systemd', '/etc/pki'].includes(source),
        `${source} exposes too much`,
      );
      assert.doesNotMatch(
        source,
        /docker\.sock|\/iotedge|\/aziot|\/var\/lib\/aziot|\/run\/systemd\/(journal|userdb|private|notify)/,
        `${source} must not expose the runtime or its secrets`,
      );
    }
    // config.toml is root-only (0600) and holds the device's credentials: in module mode the hub
    // name comes from IOTEDGE_IOTHUBHOSTNAME, which edgeAgent always sets.
    const bound = (path: string) =>
      strings(hostConfig['Binds']).some((b) => path.startsWith(`${b.split(':')[0]}/`) || path === b.split(':')[0]);
    assert.ok(!bound(DEFAULTS.aziotConfig), `${DEFAULTS.aziotConfig} is not bound`);
    assert.ok(!bound('/etc/aziot'), '/etc/aziot is not bound');
  });
});

describe('deployment manifest: edgeHub routes', () => {
  test('schemaVersion 1.2 and store-and-forward for when the device is offline', () => {
    assert.equal(hub['schemaVersion'], '1.2');
    const ttl = objectAt(hub, 'storeAndForwardConfiguration')['timeToLiveSecs'];
    assert.ok(Number.isInteger(ttl) && (ttl as number) > 0);
  });

  test(`the module's "${OUTPUT_NAME}" output goes to $upstream, and every route names a deployed module and a real output`, () => {
    const routes = objectAt(hub, 'routes');
    const parsed = Object.entries(routes).map(([name, value]) => {
      const text = typeof value === 'string' ? value : isObject(value) ? value['route'] : null;
      assert.equal(typeof text, 'string', `route ${name} is a string or {route}`);
      return { name, ...parseRoute(text as string) };
    });
    for (const name of [MODULE, CONTAINER_MODULE]) {
      const toUpstream = parsed.filter((r) => r.module === name && r.output === OUTPUT_NAME && r.sink === '$upstream');
      assert.equal(
        toUpstream.length,
        1,
        `exactly one route FROM /messages/modules/${name}/outputs/${OUTPUT_NAME} INTO $upstream`,
      );
      assert.equal(
        toUpstream[0]?.condition,
        null,
        'every diagnostics message goes up; IoT Hub routing filters on its properties',
      );
    }
    for (const r of parsed) {
      if (r.module !== null)
        assert.ok(r.module in userModules, `route ${r.name} names module ${r.module}, which is deployed`);
      if (r.module === MODULE || r.module === CONTAINER_MODULE)
        assert.equal(r.output, OUTPUT_NAME, `route ${r.name}: the module only sends on ${OUTPUT_NAME}`);
    }
  });
});

describe('deployment manifest: the module twin', () => {
  const desired = objectAt(content, MODULE, 'properties.desired');

  test("the default desired properties are the module's own defaults (deploying them changes nothing)", () => {
    // upstreamProtocol is left out on purpose: the module then follows the UpstreamProtocol that
    // edgeAgent passes to modules, i.e. the protocol the runtime really uses.
    assert.deepEqual(desired, {
      intervalSeconds: MODULE_DEFAULTS.intervalSeconds,
      heartbeatSeconds: MODULE_DEFAULTS.heartbeatSeconds,
      telemetry: MODULE_DEFAULTS.telemetry,
      interfaces: DEFAULTS.interfaces,
      timeoutMs: DEFAULTS.timeoutMs,
      deadlineMs: DEFAULTS.deadlineMs,
    });
  });

  test('the module accepts every one of them: ac 200, the same value back, nothing unknown or ignored', () => {
    for (const key of Object.keys(desired))
      assert.ok(DESIRED_KEYS.includes(key), `${key} is a desired property the module knows`);
    const effective = (key: string, applied: AppliedDesired): JsonValue => applied[key] ?? null;
    const update = applyDesired({}, { ...desired, $version: 2 }, 2, true, effective);
    assert.deepEqual(update.ignored, []);
    assert.deepEqual(Object.keys(update.acks).sort(), Object.keys(desired).sort());
    for (const [key, value] of Object.entries(desired)) {
      const ack = update.acks[key];
      assert.ok(isObject(ack), `an acknowledgement for ${key}`);
      const a = ack;
      assert.equal(a['ac'], 200, `${key}: ${String(a['ad'])}`);
      assert.equal(a['av'], 2);
      assert.deepEqual(a['value'], value, `${key} is acknowledged in the canonical form it was written in`);
    }
  });
});

describe('module.json', () => {
  const image = objectAt(moduleJson, 'image');
  const tag = objectAt(image, 'tag');
  const platforms = objectAt(tag, 'platforms');

  test('IoT Edge module-project format, version equal to package.json', () => {
    assert.equal(moduleJson['$schema-version'], '0.0.1');
    assert.equal(tag['version'], pkg['version']);
    assert.deepEqual(image['buildOptions'], []);
    assert.equal(
      moduleJson['language'],
      'javascript',
      'what generator-azure-iot-edge-module writes for Node.js modules',
    );
  });

  test('every platform builds from a Dockerfile inside the build context', () => {
    const context = join(ROOT, String(image['contextPath'] ?? '.'));
    assert.ok(statSync(context).isDirectory());
    // amd64 (iotedgedev's default platform, x64 EFLOW) and arm64v8 (EFLOW on ARM64 Windows hosts).
    assert.deepEqual(Object.keys(platforms).sort(), ['amd64', 'arm64v8']);
    for (const [platform, dockerfile] of Object.entries(platforms)) {
      assert.equal(typeof dockerfile, 'string');
      const path = join(ROOT, dockerfile as string);
      assert.ok(existsSync(path), `${platform}: ${String(dockerfile)} exists`);
      assert.ok(path.startsWith(context), `${platform}: the Dockerfile is inside the context`);
    }
  });

  test('the repository, with the registry filled in, gives valid image tags the way iotedgedev forms them', () => {
    const repository = String(image['repository']);
    assert.match(repository, /^\$\{CONTAINER_REGISTRY_SERVER\}\/eflow-netdiag$/);
    for (const platform of Object.keys(platforms)) {
      const full = `${repository.replace('${CONTAINER_REGISTRY_SERVER}', 'localhost:5000').toLowerCase()}:${String(tag['version'])}-${platform}`;
      assert.match(full, IMAGE_REFERENCE, full);
    }
  });

  test("the deployment's image placeholder points at this module.json and one of its platforms", () => {
    const placeholder = String(objectAt(netdiag, 'settings')['image']);
    const m = MODULEDIR_PLACEHOLDER.exec(placeholder);
    assert.ok(m, `${placeholder} is a \${MODULEDIR<path>} placeholder (module.json is not under modules/<name>/)`);
    // The placeholder is resolved relative to the template's folder (iotedgedev modules.py).
    assert.ok(existsSync(join(ROOT, m[1] ?? '', 'module.json')), `${m[1]}/module.json exists next to the template`);
    const platform = m[2]?.slice(1) ?? 'amd64';
    assert.ok(platform in platforms, `platform ${platform} is built by module.json`);
  });
});
