/** The pure protocol pieces of the emulator: topic names, property bags, SAS tokens. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stringify } from 'node:querystring';
import { checkModuleSasToken, makeModuleSasToken, moduleResource } from './sas-token.js';
import {
  decodePropertyBag,
  eventsTopicBag,
  isValidMethodName,
  parseMethodResponseTopic,
  parseTwinRequestTopic,
  topicMatches,
  twinResponseTopic,
} from './topics.js';

describe('topicMatches', () => {
  it('follows MQTT wildcard rules', () => {
    assert.equal(topicMatches('$iothub/twin/res/#', '$iothub/twin/res/200/?$rid=1'), true);
    assert.equal(topicMatches('$iothub/methods/POST/#', '$iothub/twin/res/200/?$rid=1'), false);
    assert.equal(topicMatches('devices/+/modules/m/inputs/#', 'devices/d/modules/m/inputs/in1/'), true);
    assert.equal(topicMatches('a/+', 'a/b/c'), false);
    assert.equal(topicMatches('a/b', 'a/b'), true);
    assert.equal(topicMatches('#', '$iothub/twin/res/200'), false, '$ topics are not matched by a leading wildcard');
  });
});

describe('property bags', () => {
  it('decodes what the SDK encodes for an output event', () => {
    // The SDK: querystring.stringify for system properties, encodeURIComponent for the others.
    const bag = `${stringify({ '$.on': 'diagnostics', '$.mid': 'm-1', '$.ct': 'application/json', '$.ce': 'utf-8' })}&alert=true&${encodeURIComponent('sp ace&x=y')}=${encodeURIComponent('v/1')}`;
    const topic = `devices/d/modules/m/messages/events/${bag}/`;
    const decoded = decodePropertyBag(eventsTopicBag(topic, 'd', 'm') ?? '');
    assert.deepEqual(decoded.system, {
      '$.on': 'diagnostics',
      '$.mid': 'm-1',
      '$.ct': 'application/json',
      '$.ce': 'utf-8',
    });
    assert.deepEqual(decoded.application, { alert: 'true', 'sp ace&x=y': 'v/1' });
    assert.equal(decoded.malformed, undefined);
  });

  it('keeps malformed percent-encoding raw and flags it', () => {
    const decoded = decodePropertyBag('good=1&bad=%E0%A4%A');
    assert.deepEqual(decoded.application, { good: '1', bad: '%E0%A4%A' });
    assert.equal(decoded.malformed, 'bad=%E0%A4%A');
  });

  it("recognises only the identity's own events topic, with or without bag and trailing slash", () => {
    assert.equal(eventsTopicBag('devices/d/modules/m/messages/events', 'd', 'm'), '');
    assert.equal(eventsTopicBag('devices/d/modules/m/messages/events/', 'd', 'm'), '');
    assert.equal(eventsTopicBag('devices/d/modules/m/messages/events/a=1', 'd', 'm'), 'a=1');
    assert.equal(eventsTopicBag('devices/d/modules/x/messages/events/a=1', 'd', 'm'), undefined);
    assert.equal(eventsTopicBag('devices/d/modules/m/messages/eventsX', 'd', 'm'), undefined);
  });
});

describe('twin and method topics', () => {
  it('parses twin requests and builds responses', () => {
    assert.deepEqual(parseTwinRequestTopic('$iothub/twin/GET/?$rid=abc'), { kind: 'get', rid: 'abc' });
    assert.deepEqual(parseTwinRequestTopic('$iothub/twin/PATCH/properties/reported/?$rid=9'), {
      kind: 'patch-reported',
      rid: '9',
    });
    assert.equal(parseTwinRequestTopic('$iothub/twin/GET/'), undefined);
    assert.equal(parseTwinRequestTopic('$iothub/twin/PATCH/properties/desired/?$rid=1'), undefined);
    assert.equal(twinResponseTopic(204, 'r1', 5), '$iothub/twin/res/204/?$rid=r1&$version=5');
    assert.equal(twinResponseTopic(200, 'r1'), '$iothub/twin/res/200/?$rid=r1');
  });

  it('parses method responses in both shapes the SDK accepts', () => {
    assert.deepEqual(parseMethodResponseTopic('$iothub/methods/res/200/?$rid=x'), { status: 200, rid: 'x' });
    assert.deepEqual(parseMethodResponseTopic('$iothub/methods/res/404?$rid=y'), { status: 404, rid: 'y' });
    assert.equal(parseMethodResponseTopic('$iothub/methods/res/abc/?$rid=x'), undefined);
    assert.equal(parseMethodResponseTopic('$iothub/methods/res/200/'), undefined);
  });

  it('refuses method names that would break the topic', () => {
    assert.equal(isValidMethodName('runDiagnostics'), true);
    for (const bad of ['', 'a/b', 'a#', 'a+b', 'a?b']) assert.equal(isValidMethodName(bad), false, bad);
  });
});

describe('SAS tokens', () => {
  const key = randomBytes(32).toString('base64');
  const resource = moduleResource('hub.example', 'dev', 'mod');
  const now = Date.UTC(2030, 0, 1);
  const se = now / 1000 + 3600;

  it('accepts a token made like the SDK makes it, and reports its expiry', () => {
    const token = makeModuleSasToken(resource, key, se);
    assert.match(token, /^SharedAccessSignature sr=hub\.example%2Fdevices%2Fdev%2Fmodules%2Fmod&sig=.+&se=\d+$/);
    assert.deepEqual(checkModuleSasToken(token, resource, key, now), { ok: true, expiresAt: new Date(se * 1000) });
  });

  it('accepts the fields in any order', () => {
    const token = makeModuleSasToken(resource, key, se);
    const fields = token.slice('SharedAccessSignature '.length).split('&').reverse().join('&');
    assert.equal(checkModuleSasToken(`SharedAccessSignature ${fields}`, resource, key, now).ok, true);
  });

  it('refuses expired, foreign, mis-signed and malformed tokens', () => {
    const reason = (token: string): string | undefined => checkModuleSasToken(token, resource, key, now).reason;
    assert.equal(reason(makeModuleSasToken(resource, key, now / 1000)), 'expired-token');
    assert.equal(reason(makeModuleSasToken(moduleResource('hub.example', 'dev', 'other'), key, se)), 'wrong-resource');
    assert.equal(reason(makeModuleSasToken(resource, randomBytes(32).toString('base64'), se)), 'bad-signature');
    const good = makeModuleSasToken(resource, key, se);
    assert.equal(
      reason(good.replace(`se=${se}`, `se=${se + 1}`)),
      'bad-signature',
      'expiry is covered by the signature',
    );
    for (const bad of ['', 'Bearer x', 'SharedAccessSignature sr=a&se=1', 'SharedAccessSignature sr=a&sig=b&se=soon']) {
      assert.equal(reason(bad), 'malformed-token', bad);
    }
  });
});
