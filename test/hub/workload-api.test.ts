import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkloadApi } from './workload-api.js';
import type { WorkloadApi } from './workload-api.js';

interface Answer {
  status: number;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

function call(socketPath: string, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('workload API', () => {
  const key = randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'workload-test-'));
  let api: WorkloadApi;
  before(async () => {
    api = await startWorkloadApi({
      socketPath: join(dir, 'workload.sock'),
      trustBundle: '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n',
      keyOf: (m) => (m === 'netdiag' ? key : undefined),
    });
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sign = (moduleId: string, body: unknown, version = '2018-06-28'): Promise<Answer> =>
    call(api.socketPath, 'POST', `/modules/${moduleId}/genid/g1/sign?api-version=${version}`, JSON.stringify(body));

  it('serves the trust bundle as JSON', async () => {
    const a = await call(api.socketPath, 'GET', '/trust-bundle?api-version=2018-06-28');
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/json');
    assert.match(String(a.body['certificate']), /BEGIN CERTIFICATE/);
    assert.equal(api.uri, `unix://${api.socketPath}`);
  });

  it('signs with HMAC-SHA256 of the module key over the decoded data', async () => {
    const data = 'lab-hub%2Fdevices%2Fd%2Fmodules%2Fnetdiag\n1700000000';
    const a = await sign('netdiag', {
      keyId: 'primary',
      algo: 'HMACSHA256',
      data: Buffer.from(data).toString('base64'),
    });
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/json');
    const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(data).digest('base64');
    assert.equal(a.body['digest'], expected);
    assert.equal(api.signCount('netdiag'), 1);
    const last = api.calls.at(-1);
    assert.deepEqual(
      { route: last?.route, moduleId: last?.moduleId, genId: last?.genId, keyId: last?.keyId, algo: last?.algo },
      { route: 'sign', moduleId: 'netdiag', genId: 'g1', keyId: 'primary', algo: 'HMACSHA256' },
    );
  });

  it('answers errors as JSON {message} with a 4xx status', async () => {
    const cases: [Promise<Answer>, number][] = [
      [sign('stranger', { keyId: 'primary', algo: 'HMACSHA256', data: 'YQ==' }), 404],
      [sign('netdiag', { keyId: 'primary', algo: 'HMACSHA256' }), 400],
      [sign('netdiag', { keyId: 'primary', algo: 'HMACSHA256', data: 'not base64!' }), 400],
      [sign('netdiag', { data: 'YQ==' }, '2017-01-01'), 400],
      [call(api.socketPath, 'POST', '/modules/netdiag/genid/g1/sign?api-version=2018-06-28', '{'), 400],
      [call(api.socketPath, 'GET', '/modules/netdiag/genid/g1/sign?api-version=2018-06-28'), 405],
      [call(api.socketPath, 'GET', '/trust-bundle'), 400],
      [call(api.socketPath, 'GET', '/modules?api-version=2018-06-28'), 404],
    ];
    for (const [pending, status] of cases) {
      const a = await pending;
      assert.equal(a.status, status);
      assert.equal(a.contentType, 'application/json');
      assert.equal(typeof a.body['message'], 'string');
    }
    assert.equal(api.signCount('netdiag'), 1, 'failed calls are not counted as signatures');
  });
});
