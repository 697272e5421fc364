/**
 * The hub name from /etc/aziot/config.toml: `iothub_hostname`, else the HostName of a
 * `connection_string`; nothing for DPS provisioning or an unreadable file, and never any part of
 * the device key.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hubFromAziotConfig, hubFromAziotToml } from '../../src/config/aziot.js';

const KEY = 'c2VjcmV0LWRldmljZS1rZXktZG8tbm90LWxlYWs9PQ==';
const SAS = 'SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fedge1&sig=U2VjcmV0U2ln%3D&se=1900000000';

const cases: Array<{ name: string; toml: string; hub: string | null }> = [
  {
    name: 'manual provisioning with iothub_hostname',
    toml: `hostname = "eflow-vm"

[provisioning]
source = "manual"
iothub_hostname = "MyHub.azure-devices.net"
device_id = "edge1"

[provisioning.authentication]
method = "sas"
device_id_pk = { value = "${KEY}" }
`,
    hub: 'myhub.azure-devices.net',
  },
  {
    name: 'manual provisioning with a connection string',
    toml: `[provisioning]
source = "manual"
connection_string = "HostName=ConnHub.azure-devices.net;DeviceId=edge1;SharedAccessKey=${KEY}"
`,
    hub: 'connhub.azure-devices.net',
  },
  {
    name: 'HostName not first in the connection string',
    toml: `[provisioning]\nsource = "manual"\nconnection_string = "DeviceId=edge1;SharedAccessKey=${KEY};HostName=late.azure-devices.net"\n`,
    hub: 'late.azure-devices.net',
  },
  {
    name: 'GatewayHostName is not mistaken for HostName',
    toml: `[provisioning]\nconnection_string = "GatewayHostName=parent.local;DeviceId=edge1;HostName=real.azure-devices.net;SharedAccessKey=${KEY}"\n`,
    hub: 'real.azure-devices.net',
  },
  {
    name: 'a TOML literal (single-quoted) string',
    toml: `[provisioning]\nconnection_string = 'HostName=literal.azure-devices.net;DeviceId=edge1;SharedAccessKey=${KEY}'\n`,
    hub: 'literal.azure-devices.net',
  },
  {
    name: 'iothub_hostname wins over a connection string',
    toml: `[provisioning]\nconnection_string = "HostName=conn.azure-devices.net;DeviceId=e;SharedAccessKey=${KEY}"\niothub_hostname = "named.azure-devices.net"\n`,
    hub: 'named.azure-devices.net',
  },
  {
    name: 'a trailing comment after the value',
    toml: `[provisioning]\niothub_hostname = "commented.azure-devices.net"   # set by Provision-EflowVm\n`,
    hub: 'commented.azure-devices.net',
  },
  {
    name: 'commented-out settings are ignored',
    toml: `[provisioning]\n# iothub_hostname = "old.azure-devices.net"\n#connection_string = "HostName=older.azure-devices.net;SharedAccessKey=${KEY}"\nsource = "dps"\n`,
    hub: null,
  },
  {
    name: 'indented keys and CRLF line endings',
    toml: `[provisioning]\r\n  source = "manual"\r\n  iothub_hostname = "crlf.azure-devices.net"\r\n`,
    hub: 'crlf.azure-devices.net',
  },
  {
    name: 'a module connection string signed with a SAS token',
    toml: `[provisioning]\nconnection_string = "HostName=sas.azure-devices.net;DeviceId=edge1;SharedAccessSignature=${SAS}"\n`,
    hub: 'sas.azure-devices.net',
  },
  {
    name: 'DPS provisioning without a hub',
    toml: `[provisioning]
source = "dps"
global_endpoint = "https://global.azure-devices-provisioning.net"
id_scope = "0ne00000000"

[provisioning.attestation]
method = "symmetric_key"
registration_id = "edge1"
symmetric_key = { value = "${KEY}" }
`,
    hub: null,
  },
  {
    name: 'a connection string without HostName',
    toml: `[provisioning]\nconnection_string = "DeviceId=edge1;SharedAccessKey=${KEY}"\n`,
    hub: null,
  },
  { name: 'an empty iothub_hostname', toml: `[provisioning]\niothub_hostname = ""\n`, hub: null },
  { name: 'an empty file', toml: '', hub: null },
  { name: 'not TOML at all', toml: '\u0000\u0001 binary \uFFFD garbage = = "', hub: null },
];

describe('hubFromAziotToml', () => {
  for (const c of cases) {
    test(c.name, () => assert.equal(hubFromAziotToml(c.toml), c.hub));
  }

  test('no returned value ever carries the key, the signature or the connection string', () => {
    let checked = 0;
    for (const c of cases) {
      const hub = hubFromAziotToml(c.toml);
      if (hub === null) continue;
      checked++;
      for (const secret of [KEY, 'U2VjcmV0U2ln', 'SharedAccess', 'DeviceId', ';']) {
        assert.ok(!hub.includes(secret), `${c.name}: ${hub}`);
      }
      assert.match(hub, /^[a-z0-9.-]+$/, `${c.name}: only a hostname is returned`);
    }
    assert.ok(checked > 0, 'some case returns a hub name to check');
  });
});

describe('hubFromAziotConfig', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netdiag-aziot-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads the file at the given path', async () => {
    const path = join(dir, 'config.toml');
    await writeFile(path, cases[1]!.toml);
    assert.equal(await hubFromAziotConfig(path), 'connhub.azure-devices.net');
  });

  test('a missing file → null', async () => {
    assert.equal(await hubFromAziotConfig(join(dir, 'does-not-exist.toml')), null);
  });

  test('a directory instead of a file → null', async () => {
    assert.equal(await hubFromAziotConfig(dir), null);
  });

  test('a reader that fails (permission denied) → null, without throwing', async () => {
    const denied = async (): Promise<string> => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    assert.equal(await hubFromAziotConfig('/etc/aziot/config.toml', denied), null);
  });

  test('the injected reader is given the path', async () => {
    const seen: string[] = [];
    const hub = await hubFromAziotConfig(
      '/x/config.toml',
      async (p) => (seen.push(p), 'iothub_hostname = "x.azure-devices.net"'),
    );
    assert.equal(hub, 'x.azure-devices.net');
    assert.deepEqual(seen, ['/x/config.toml']);
  });
});
