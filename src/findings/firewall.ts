/** The firewall layer's codes (CONTRACT.md 4.3) and their words. */
import type { UpstreamProtocol } from '../report/vocabulary.js';
import { defineCodes } from './define.js';
import { WS_FOR, firewallAsk } from './phrases.js';

/** host, port: the endpoint a finding is about. */
interface Target {
  host: string;
  port: number;
}

export const FIREWALL_CODES = defineCodes({
  FW_PORT_BLOCKED: {
    component: 'firewall',
    severity: 'error',
    when: 'connect timed out (dropped)',
    severityRule: 'by port, see below',
    words: ({ host, port, ms }: Target & { ms: number }) => ({
      message: `No answer connecting to ${host}:${port} within ${ms} ms: the packets are silently dropped.`,
      guidance: `${firewallAsk(host, port)}; dropped packets usually mean a firewall rule, not a down service.`,
    }),
  },
  FW_PORT_REJECTED: {
    component: 'firewall',
    severity: 'error',
    when: 'refused or reset',
    severityRule: 'by port',
    words: ({ host, port, code }: Target & { code: string }) => ({
      message: `Connection to ${host}:${port} was actively refused (${code}).`,
      guidance: `${firewallAsk(host, port)}; a refusal comes from a firewall or proxy that rejects the port, or from a wrong address for the name.`,
    }),
  },
  FW_HOST_UNREACHABLE: {
    component: 'firewall',
    severity: 'error',
    when: 'no route / host unreachable',
    severityRule: 'by port',
    words: ({ host, port, code }: Target & { code: string }) => ({
      message: `${host}:${port} is unreachable from the VM (${code}).`,
      guidance:
        'There is no route to that address: check the default gateway and any static routes, and whether a VPN or firewall answers with "host unreachable".',
    }),
  },
  FW_TLS_UNTRUSTED: {
    component: 'firewall',
    severity: 'error',
    when: 'chain not trusted (names the issuer)',
    words: ({ host, port, issuer, error }: Target & { issuer: string; error: string }) => ({
      message: `TLS to ${host}:${port} is not trusted (${error}): the certificate chain was issued by "${issuer}".`,
      guidance:
        `Azure presents Microsoft/DigiCert certificates, so "${issuer}" is most likely a TLS-inspecting proxy or firewall. Either exempt the IoT Hub and DPS hostnames from inspection, ` +
        'or trust that CA: add it to the VM (/etc/pki/ca-trust/source/anchors then update-ca-trust, and trust_bundle_cert in /etc/aziot/config.toml), and pass it here with --ca-file to confirm.',
    }),
  },
  FW_TLS_FAILED: {
    component: 'firewall',
    severity: 'error',
    when: 'TCP connects, TLS handshake fails or is cut',
    severityRule: 'by port',
    words: ({ host, port, detail }: Target & { detail: string }) => ({
      message: `TCP to ${host}:${port} connects but the TLS handshake fails (${detail}).`,
      guidance:
        'A proxy or firewall accepts the connection and then cuts it (often deep packet inspection that does not allow TLS to this host): ask the network team to allow TLS to the hub without inspection.',
    }),
  },
  FW_PROTOCOL_FALLBACK: {
    component: 'firewall',
    severity: 'warning',
    when: "the upstream protocol's port is closed but 443 works: says which `UpstreamProtocol` to set",
    words: ({ host, closedPort, protocol }: { host: string; closedPort: number; protocol: UpstreamProtocol }) => ({
      message: `${host}:${closedPort} is closed for ${protocol}, but ${host}:443 works.`,
      guidance:
        `Switch the IoT Edge runtime to WebSockets over 443: set UpstreamProtocol=${WS_FOR[protocol]} in the environment of edgeAgent and edgeHub in the deployment ` +
        `(and [agent.env] UpstreamProtocol = "${WS_FOR[protocol]}" in /etc/aziot/config.toml, then "sudo iotedge config apply"), or open ${closedPort}.`,
    }),
  },
  FW_CA_FILE_INVALID: {
    component: 'firewall',
    severity: 'warning',
    when: '`caFile` from a desired property could not be used',
    extension: true,
    words: ({ problem }: { problem: string }) => ({
      message: problem,
      guidance: 'Pass a readable PEM file with --ca-file (or caFile); the TLS checks ran with the system roots only.',
    }),
  },
});
