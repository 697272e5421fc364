/**
 * The firewall layer's codes (CONTRACT.md 4.3, 7.2, 7.3) and their words. The words follow what
 * operators must do on an EFLOW device (research/field-failure-modes.md A1, A2, A12, A13, A17):
 * compare from the Windows host first, never tell a proxy-only site to open ports, tell a TLS
 * handshake that stalls (the path MTU) from one that is reset (inspection), and split an untrusted
 * chain by its cause.
 */
import type { UpstreamProtocol } from '../report/vocabulary.js';
import { defineCodes } from './define.js';
import { WS_FOR, firewallAsk, portPurpose } from './phrases.js';

/** host, port: the endpoint a finding is about. */
interface Target {
  host: string;
  port: number;
}

/**
 * Why a closed endpoint matters, which the words must say: `needed` (it is on IoT Edge's path),
 * `behind-proxy` (a direct port with a proxy in use: traffic goes through the proxy by design),
 * `nested` (a lower layer of a nested deployment, which must not reach Azure itself) or `unused`
 * (DPS on a device provisioned by hand).
 */
export type EndpointContext = 'needed' | 'behind-proxy' | 'nested' | 'unused';

const CONTEXT_NOTE: Record<Exclude<EndpointContext, 'needed'>, string> = {
  'behind-proxy':
    'A proxy is in use, so this direct path is not needed: IoT Edge reaches Azure through the proxy (with a ' +
    'WebSocket protocol); this is for the record only.',
  nested:
    'This device is a lower layer of a nested deployment: it reaches Azure through its parent, and the network may ' +
    'block this on purpose; for the record only.',
  unused: 'This device is provisioned by hand (not by DPS), so it does not need DPS; for the record only.',
};

/** The next step for a port that does not connect (A12): compare from the host, then the network or the VM's switch. */
function closedPortSteps(host: string, port: number, context: EndpointContext): string {
  if (context !== 'needed') return CONTEXT_NOTE[context];
  return (
    `Compare from the Windows host with Test-NetConnection ${host} -Port ${port}. ` +
    `If it fails there too, the network blocks it: ${firewallAsk(host, port)}, or, if the site lets traffic out ` +
    `only through an HTTP proxy, configure that proxy (https_proxy) with UpstreamProtocol AmqpWs or MqttWs ` +
    `instead. ` +
    "If it works on the host but not in the VM, the VM's switch is the cause: check Get-EflowNetwork (an internal " +
    "switch needs New-NetNat) and the VM's default route."
  );
}

export const FIREWALL_CODES = defineCodes({
  FW_PORT_BLOCKED: {
    component: 'firewall',
    severity: 'error',
    when: 'connect timed out (dropped)',
    severityRule: 'by port and role, see below',
    words: ({ host, port, ms, context }: Target & { ms: number; context: EndpointContext }) => ({
      message:
        `No answer connecting to ${host}:${port} within ${ms} ms: the packets are dropped on the way (a ` +
        `firewall rule, or no NAT or route beyond the gateway).`,
      guidance: closedPortSteps(host, port, context),
    }),
  },
  FW_PORT_REJECTED: {
    component: 'firewall',
    severity: 'error',
    when: 'refused or reset',
    severityRule: 'by port and role',
    words: ({ host, port, code, context }: Target & { code: string; context: EndpointContext }) => ({
      message: `Connection to ${host}:${port} was actively refused (${code}).`,
      guidance:
        context === 'needed'
          ? `${closedPortSteps(host, port, context)} A refusal comes from a firewall or proxy that rejects the ` +
            `port, or from a wrong address for the name.`
          : closedPortSteps(host, port, context),
    }),
  },
  FW_HOST_UNREACHABLE: {
    component: 'firewall',
    severity: 'error',
    when: 'no route / host unreachable',
    severityRule: 'by port and role',
    words: ({ host, port, code, context }: Target & { code: string; context: EndpointContext }) => ({
      message: `${host}:${port} is unreachable from the VM (${code}).`,
      guidance:
        context === 'needed'
          ? `There is no route to that address: check the VM's default gateway and static routes (ip route), ` +
            `whether a VPN or firewall answers "host unreachable", and compare from the Windows host with ` +
            `Test-NetConnection ${host} -Port ${port}.`
          : CONTEXT_NOTE[context],
    }),
  },
  FW_TLS_UNTRUSTED: {
    component: 'firewall',
    severity: 'error',
    when:
      'an unknown issuer (interception: names it), or a certificate expired while the clock is right (names the ' +
      'date)',
    severityRule: 'error (by role: a registry warning, a nested layer info)',
    words: ({
      host,
      port,
      issuer,
      error,
      expiredAt,
      parent,
    }: Target & { issuer: string; error: string; expiredAt: string | null; parent: boolean }) =>
      expiredAt !== null
        ? {
            message:
              `The certificate ${host}:${port} presents expired on ${expiredAt}, and the VM's clock is right ` +
              `(${error}); it was issued by "${issuer}".`,
            guidance:
              'A certificate that really expired is not what Azure serves: something between the VM and Azure ' +
              'answers in its place (an old TLS-inspecting appliance, a captive portal). Look at who answers ' +
              'with the network team, and compare the issuer from the Windows host.',
          }
        : {
            message: `TLS to ${host}:${port} is not trusted (${error}): the chain was issued by "${issuer}".`,
            guidance: parent
              ? `The parent presents its Edge CA certificate: pass the device's trust bundle (trust_bundle_cert in ` +
                `/etc/aziot/config.toml) with --ca-file to verify it; if it is not that CA, something intercepts ` +
                `the connection to the parent.`
              : `Azure presents Microsoft/DigiCert certificates, so "${issuer}" is most likely a TLS-inspecting ` +
                `proxy or firewall. Either exempt the IoT Hub and DPS hostnames from inspection, ` +
                'or trust that CA: add it to the VM (/etc/pki/ca-trust/source/anchors, then "sudo update-ca-trust") ' +
                'and to trust_bundle_cert in /etc/aziot/config.toml, and pass it here with --ca-file to ' +
                'confirm. ' +
                'A device that authenticates with an X.509 certificate needs the exemption: an inspecting proxy ' +
                "cannot present the device's client certificate.",
          },
  },
  FW_TLS_NAME_MISMATCH: {
    component: 'firewall',
    severity: 'error',
    when:
      'the certificate is not for that name (a wrong address, a captive portal, a stale `/etc/hosts`): names ' +
      'the address and the names on the certificate',
    severityRule: 'error (by role: a registry warning, a nested layer info)',
    words: ({ host, port, address, names }: Target & { address: string | null; names: string[] }) => ({
      message:
        `The certificate ${host}:${port} presents${address ? ` at ${address}` : ''} is not for ${host}: it ` +
        `names ${names.length ? names.join(', ') : 'no matching name'}.`,
      guidance:
        `The name led to a server that is not the one asked for: a stale /etc/hosts entry in the VM, a captive ` +
        `portal, or DNS that answers another address (a private-endpoint zone). ` +
        `Compare the address with Resolve-DnsName ${host} on the Windows host, look at /etc/hosts in the VM, and ` +
        `check the DNS servers the VM uses.`,
    }),
  },
  FW_TLS_ROOT_MISSING: {
    component: 'firewall',
    severity: 'error',
    when: "a genuine Microsoft/DigiCert chain whose root the VM's own CA store lacks",
    severityRule: 'error (by role: a registry warning, a nested layer info)',
    words: ({
      host,
      port,
      root,
      store,
      publicRootsVerify,
    }: Target & { root: string; store: string | null; publicRootsVerify: boolean | null }) => ({
      message:
        `The chain ${host}:${port} presents leads to "${root}", which the VM's CA ` +
        `store${store ? ` (${store})` : ''} does not hold` +
        (publicRootsVerify === true
          ? ": the public roots that ship with Node.js verify the same chain, so it is genuine and only the VM's " +
            'store lacks its root.'
          : '.'),
      guidance:
        `IoT Edge's daemons verify with the VM's store: add "${root}" to it (download it from DigiCert or ` +
        `Microsoft's PKI repository, put the PEM in /etc/pki/ca-trust/source/anchors/, run "sudo ` +
        `update-ca-trust"), or update the store with "sudo tdnf update ca-certificates".` +
        (publicRootsVerify === true
          ? ''
          : ' If no public root verifies this chain either, it only looks genuine: then it is an interception (see ' +
            'FW_TLS_UNTRUSTED).'),
    }),
  },
  FW_TLS_FAILED: {
    component: 'firewall',
    severity: 'error',
    when: 'TCP connects, TLS handshake fails: a timeout points at the path MTU, a reset at inspection',
    severityRule: 'by port and role (info when IP_MTU_BLACKHOLE explains it)',
    words: ({
      host,
      port,
      detail,
      cause,
      explained,
    }: Target & { detail: string; cause: 'timeout' | 'reset' | 'other'; explained: boolean }) => ({
      message:
        `TCP to ${host}:${port} connects but the TLS handshake ${cause === 'timeout' ? 'stalls' : 'fails'} ` +
        `(${detail}).`,
      guidance: explained
        ? 'The path-MTU black hole the IP layer found explains it (IP_MTU_BLACKHOLE): fix the MTU first.'
        : cause === 'timeout'
          ? "A handshake that connects and then stalls is the classic path-MTU black hole: the server's certificate " +
            'is the first full-size packet, and something on the way (a VPN, LTE, nested virtualization) drops it ' +
            'without saying so. ' +
            'Test with a smaller MTU in the VM ("sudo ip link set eth0 mtu 1400", and "mtu" in ' +
            '/etc/docker/daemon.json for the containers), and compare from the Windows host with ' +
            'Test-NetConnection; a firewall that silently discards TLS to this host looks the same.'
          : 'A firewall or proxy accepts the connection and then resets or closes it during the handshake (often ' +
            'TLS inspection that refuses this host, or no TLS at all on this port): ' +
            `ask the network team to allow TLS to ${host}:${port} without inspection, and compare from the Windows ` +
            `host with Test-NetConnection ${host} -Port ${port}.`,
    }),
  },
  FW_PROTOCOL_BLOCKED: {
    component: 'firewall',
    severity: 'error',
    when:
      'TLS completes, then the protocol exchange is cut or answered by something that is not the hub (e.g. an ' +
      'HTTP block page on 8883)',
    severityRule: 'by port and role',
    words: ({ host, port, exchange, detail }: Target & { exchange: string; detail: string }) => ({
      message: `TLS to ${host}:${port} works, but the ${exchange} exchange after it does not: ${detail}.`,
      guidance:
        `An application-aware firewall or proxy lets TLS through and then stops ${portPurpose(port)} (or answers in ` +
        `the hub's place): ` +
        `ask the network team to allow ${portPurpose(port)} to ${host}:${port} without application inspection ` +
        `(Test-NetConnection on the Windows host tests TCP only, so it passes there too). ` +
        'If only HTTPS passes, a WebSocket UpstreamProtocol (AmqpWs or MqttWs) carries the same traffic over 443.',
    }),
  },
  FW_PROTOCOL_FALLBACK: {
    component: 'firewall',
    severity: 'warning',
    when:
      "the upstream protocol's port is closed but its WebSocket form on 443 works: says which " +
      '`UpstreamProtocol` to set',
    words: ({ host, closedPort, protocol }: { host: string; closedPort: number; protocol: UpstreamProtocol }) => ({
      message: `${host}:${closedPort} is closed for ${protocol}, but ${host}:443 works.`,
      guidance:
        `Switch the IoT Edge runtime to WebSockets over 443: set UpstreamProtocol=${WS_FOR[protocol]} in the ` +
        `environment of edgeAgent and edgeHub in the deployment ` +
        `(and [agent.env] UpstreamProtocol = "${WS_FOR[protocol]}" in /etc/aziot/config.toml, then "sudo iotedge ` +
        `config apply"), or open ${closedPort}. ` +
        'Check that edgeAgent really got it ("sudo docker inspect edgeAgent" shows its Env): if not, "sudo docker ' +
        'rm -f edgeAgent" and the runtime recreates it. ' +
        'Only the WebSocket protocols can also use an HTTP proxy.',
    }),
  },
  FW_CA_FILE_INVALID: {
    component: 'firewall',
    severity: 'warning',
    when: "`caFile` (or the VM's CA bundle) could not be used",
    extension: true,
    words: ({ problem }: { problem: string }) => ({
      message: problem,
      guidance:
        'Pass a readable PEM file with --ca-file (or caFile); the TLS checks ran with the roots that could be read. ' +
        "The VM's own bundle is /etc/pki/tls/certs/ca-bundle.crt (package ca-certificates).",
    }),
  },
});
