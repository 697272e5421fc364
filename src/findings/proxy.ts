/** The proxy layer's codes (CONTRACT.md 7.1) and their words. */
import type { UpstreamProtocol } from '../report/vocabulary.js';
import { defineCodes } from './define.js';
import { WS_FOR } from './phrases.js';

/** Where IoT Edge reads the proxy: every one of them must be given the same http:// URL. */
export const PROXY_PLACES =
  '[agent.env] https_proxy in /etc/aziot/config.toml (edgeAgent; then "sudo iotedge config apply"), and ' +
  'Environment="https_proxy=…" in the drop-ins of aziot-identityd, aziot-edged and docker ("sudo systemctl edit ' +
  '<unit>", then restart it)';

export type ProxyFailurePhase = 'input' | 'resolve' | 'connect' | 'answer';

export const PROXY_CODES = defineCodes({
  PROXY_URL_INVALID: {
    component: 'proxy',
    severity: 'error',
    when: 'not an `http://host:port` URL (IoT Edge reaches the proxy over plain HTTP; `https://` is a known failure)',
    words: ({
      url,
      source,
      detail,
      httpWorks,
    }: {
      url: string;
      source: string;
      detail: string;
      httpWorks: boolean | null;
    }) => ({
      message:
        `The proxy URL ${url} (${source}) cannot be used by IoT Edge: ${detail}.` +
        (httpWorks === true
          ? ' The same proxy gives a tunnel when asked over plain HTTP (tested as http://).'
          : httpWorks === false
            ? ' Asked over plain HTTP, it gave no tunnel either.'
            : ''),
      guidance:
        'Write it as http://[user:password@]host:port: the IoT Edge daemons, Docker and edgeAgent speak plain HTTP ' +
        'to the proxy even for HTTPS traffic (the TLS to Azure runs inside the tunnel). ' +
        `Set it in ${PROXY_PLACES}.`,
    }),
  },
  PROXY_UNREACHABLE: {
    component: 'proxy',
    severity: 'error',
    when: 'TCP to the proxy fails (name, refused, timed out), or it does not answer as an HTTP proxy',
    words: ({
      proxy,
      host,
      port,
      detail,
      phase,
    }: {
      proxy: string;
      host: string;
      port: number;
      detail: string;
      phase: ProxyFailurePhase;
    }) => ({
      message: `The proxy ${proxy} cannot be used from the VM: ${detail}.`,
      guidance:
        phase === 'resolve'
          ? `The VM cannot resolve the proxy's name ${host}: check the name, compare with Resolve-DnsName ${host} ` +
            `on the Windows host, or use the proxy's IP address.`
          : phase === 'answer'
            ? `Something listens on ${host}:${port} but does not answer an HTTP CONNECT: check that this is the ` +
              `proxy's HTTP port (not a SOCKS or TLS port) with the network team.`
            : `Check the proxy's address and port, and compare from the Windows host with Test-NetConnection ` +
              `${host} -Port ${port}: if it works there, the VM's switch or NAT does not reach it ` +
              `(Get-EflowNetwork; an internal switch needs New-NetNat).`,
    }),
  },
  PROXY_AUTH_REQUIRED: {
    component: 'proxy',
    severity: 'error',
    when: 'the proxy answers 407 (or 401)',
    words: ({
      proxy,
      status,
      sentCredentials,
      schemes,
    }: {
      proxy: string;
      status: number;
      sentCredentials: boolean;
      schemes: string[];
    }) => {
      const basic = schemes.length === 0 || schemes.some((s) => /^basic\b/i.test(s));
      return {
        message: sentCredentials
          ? `The proxy ${proxy} refused the credentials of the proxy URL (HTTP ${status}).`
          : `The proxy ${proxy} requires authentication (HTTP ${status}) and the proxy URL carries none.`,
        guidance:
          'IoT Edge authenticates to a proxy with Basic credentials in the URL only: http://user:password@host:port ' +
          '(percent-encode special characters, an @ as %40). ' +
          (basic
            ? ''
            : `This proxy offers ${schemes.join(', ')}, which IoT Edge cannot do: ask for Basic credentials or an ` +
              `allow-list entry for the VM's address. `) +
          `Set the same URL in ${PROXY_PLACES}.`,
      };
    },
  },
  PROXY_CONNECT_DENIED: {
    component: 'proxy',
    severity: 'error',
    when: 'the proxy refuses CONNECT to the endpoint (403 or another non-2xx), naming the status',
    severityRule: "the endpoint's severity (its role and port)",
    words: ({
      proxy,
      host,
      port,
      status,
      reason,
    }: {
      proxy: string;
      host: string;
      port: number;
      status: number | null;
      reason: string | null;
    }) => ({
      message:
        `The proxy ${proxy} refused CONNECT to ` +
        `${host}:${port}${status === null ? '' : `: HTTP ${status}${reason ? ` ${reason}` : ''}`}.`,
      guidance:
        status !== null && status >= 500
          ? `The proxy could not reach ${host}:${port} itself (its own DNS or upstream): ask its administrators to ` +
            `check the way out to ${host}.`
          : `Ask the proxy's administrators to allow CONNECT to ${host} on port ${port} (IoT Edge needs ` +
            `*.azure-devices.net, *.azure-devices-provisioning.net and its registries on 443).`,
    }),
  },
  PROXY_PROTOCOL_MISMATCH: {
    component: 'proxy',
    severity: 'error',
    when:
      'a proxy is configured but the upstream protocol is `Amqp` or `Mqtt`, which cannot pass an HTTP proxy: ' +
      'says to set `AmqpWs`/`MqttWs`',
    words: ({
      proxy,
      protocol,
      port,
      directOpen,
    }: {
      proxy: string;
      protocol: UpstreamProtocol;
      port: number;
      directOpen: boolean;
    }) => ({
      message:
        `A proxy (${proxy}) is configured, but the upstream protocol is ${protocol}, which cannot pass an HTTP proxy` +
        (directOpen
          ? `: it works today only because port ${port} is open directly.`
          : `, and port ${port} is closed directly.`),
      guidance:
        `Only the WebSocket protocols use an HTTP proxy (edgeAgent and edgeHub ignore it for ${protocol}): set ` +
        `UpstreamProtocol=${WS_FOR[protocol]} in the environment of edgeAgent and edgeHub in the deployment ` +
        `and [agent.env] UpstreamProtocol = "${WS_FOR[protocol]}" in /etc/aziot/config.toml, then "sudo iotedge ` +
        `config apply".`,
    }),
  },
  PROXY_INCONSISTENT: {
    component: 'proxy',
    severity: 'warning',
    when:
      'two readable sources name different proxies, or one names a proxy and another readable source names none ' +
      '(an absent or unreadable source is unknown, not a difference)',
    words: ({ differences }: { differences: string[] }) => ({
      message: `IoT Edge's components are not given the same proxy: ${differences.join('; ')}.`,
      guidance:
        `Every component that reaches Azure needs the same https_proxy: ${PROXY_PLACES}. ` +
        'edgeHub and the modules take theirs from the deployment (https_proxy in their env), and aziot-identityd ' +
        'ignores no_proxy.',
    }),
  },
  PROXY_MAY_BE_REQUIRED: {
    component: 'proxy',
    severity: 'info',
    when:
      "no proxy is configured and every direct port to Azure is dropped: says how to find the site's proxy " +
      '(`netsh winhttp show proxy`)',
    words: ({ dropped }: { dropped: string[] }) => ({
      message: `No proxy is configured and every direct connection to Azure was dropped (${dropped.join(', ')}).`,
      guidance:
        'That is what a network that lets traffic out only through an HTTP proxy looks like. On the Windows host, ' +
        '"netsh winhttp show proxy" (and the system proxy settings) name the site\'s proxy; ' +
        `give IoT Edge that proxy as http://host:port in ${PROXY_PLACES}, use UpstreamProtocol AmqpWs or MqttWs, ` +
        `and run this check again with --proxy http://host:port to test it.`,
    }),
  },
});
