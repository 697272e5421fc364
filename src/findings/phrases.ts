/**
 * Phrases more than one code's words share: the switch-type hints, the firewall request, a ping
 * outcome in words. The operator reads these on the Windows host, in an elevated PowerShell.
 */
import type { PingOutcome } from '../report/types.js';
import type { SwitchType, UpstreamProtocol } from '../report/vocabulary.js';

export const SWITCH_HINT: Record<SwitchType | 'unknown', string> = {
  default:
    'The Default Switch gives the VM its address by DHCP from Windows (ICS) and may change subnet after a host reboot or network change; ' +
    'restart the VM with Stop-EflowVm; Start-EflowVm, then check the address with Get-EflowVmAddr.',
  internal:
    'An internal switch has no DHCP server of its own: either run one (with New-NetNat for the NAT) or give the VM a static address ' +
    '(Deploy-Eflow or Add-EflowVmEndpoint with -ip4Address, -ip4PrefixLength and -ip4GatewayAddress).',
  external:
    "An external switch bridges the VM onto the physical network, so its address comes from that network's DHCP server: check that the " +
    'switch is bound to the NIC that is actually connected (it breaks when a laptop moves from wired to Wi-Fi) and that the DHCP server ' +
    "accepts the VM's MAC (Get-EflowVmAddr shows it).",
  unknown: 'Check which switch the VM uses with Get-EflowNetwork and Get-EflowVmEndpoint on the Windows host.',
};

export function switchHint(switchType: SwitchType | null): string {
  return SWITCH_HINT[switchType ?? 'unknown'];
}

/** The WebSocket form of each upstream protocol (the WebSocket forms are their own). */
export const WS_FOR: Record<UpstreamProtocol, UpstreamProtocol> = {
  Amqp: 'AmqpWs',
  Mqtt: 'MqttWs',
  AmqpWs: 'AmqpWs',
  MqttWs: 'MqttWs',
};

export function portPurpose(port: number): string {
  if (port === 8883) return 'MQTT';
  if (port === 5671) return 'AMQP';
  if (port === 443) return 'HTTPS/WebSockets';
  return 'this endpoint';
}

export function firewallAsk(target: string, port: number): string {
  return `Ask the network team to allow outbound TCP ${port} from the VM to ${target} (${portPurpose(port)})`;
}

/** A ping outcome as the end of a sentence starting "ping …". */
export function describePing(p: PingOutcome | undefined): string {
  if (!p) return 'was not tried';
  if ('error' in p)
    return p.error === 'not-permitted' ? 'is not permitted in this container (no NET_RAW)' : 'is not available';
  if (p.received === 0) return p.sent === 1 ? 'lost its echo request' : `lost all ${p.sent} echo requests`;
  return `lost ${p.sent - p.received} of ${p.sent} echo requests`;
}
