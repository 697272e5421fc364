/** The IP layer's codes (CONTRACT.md 4.1) and their words. */
import type { SwitchType } from '../report/vocabulary.js';
import { defineCodes } from './define.js';
import { switchHint } from './phrases.js';

export const IP_CODES = defineCodes({
  IP_INTERFACE_MISSING: {
    component: 'ip',
    severity: 'error',
    when: 'the interface does not exist',
    words: ({ name, present }: { name: string; present: string[] }) => ({
      message: `Interface ${name} does not exist in the VM${present.length ? ` (present: ${present.join(', ')})` : ''}.`,
      guidance:
        name === 'eth0'
          ? "eth0 is the VM's management NIC and always exists in EFLOW: check with Get-EflowVmEndpoint on the Windows host; if it is gone, redeploy or repair the VM (Stop-EflowVm; Start-EflowVm)."
          : `Extra NICs are added from Windows with Add-EflowNetwork and Add-EflowVmEndpoint; check that the endpoint for ${name} exists with Get-EflowVmEndpoint, or examine the right interface with --interface.`,
    }),
  },
  IP_INTERFACE_DOWN: {
    component: 'ip',
    severity: 'error',
    when: 'administratively or operationally down',
    words: ({ name, operState, adminUp }: { name: string; operState: string | null; adminUp: boolean | null }) => ({
      message: `Interface ${name} is down (administratively ${adminUp ? 'up' : 'down'}, link state ${operState ?? 'unknown'}; expected up).`,
      guidance: adminUp
        ? `The link has no carrier: check that the Hyper-V switch of ${name} is connected (Get-EflowVmEndpoint shows its switch and health), then restart the VM with Stop-EflowVm; Start-EflowVm.`
        : `Bring it up inside the VM with "sudo ip link set ${name} up" and check the .network file that manages it; if it goes down again, restart the VM with Stop-EflowVm; Start-EflowVm.`,
    }),
  },
  IP_NO_ADDRESS: {
    component: 'ip',
    severity: 'error',
    when: 'no IPv4 address (guidance for DHCP vs static, and by switch type)',
    words: (a: { name: string; assignment: string; switchType: SwitchType | null; configFile: string | null }) => ({
      message: `Interface ${a.name} has no IPv4 address (configured as ${a.assignment}${a.configFile ? ` by ${a.configFile}` : ''}).`,
      guidance:
        a.assignment === 'static'
          ? `The static configuration was not applied: check Address= (with the /prefix) and Gateway= in ${a.configFile ?? 'the .network file'}, or re-create the endpoint from Windows with Add-EflowVmEndpoint -ip4Address -ip4PrefixLength -ip4GatewayAddress, then restart the VM.`
          : `No DHCP lease was obtained. ${switchHint(a.switchType)}`,
    }),
  },
  IP_LINK_LOCAL_ONLY: {
    component: 'ip',
    severity: 'error',
    when: 'only 169.254.x.x: DHCP did not answer',
    words: ({ name, address, switchType }: { name: string; address: string; switchType: SwitchType | null }) => ({
      message: `Interface ${name} has only the link-local address ${address}: DHCP did not answer.`,
      guidance: `The VM gave itself an automatic 169.254.x.x address because no DHCP server replied. ${switchHint(switchType)}`,
    }),
  },
  IP_ADDRESS_MISMATCH: {
    component: 'ip',
    severity: 'error',
    when: 'differs from `--expected-ip`',
    words: ({ name, actual, expected }: { name: string; actual: string[]; expected: string }) => ({
      message: `Interface ${name} has ${actual.join(', ')} but the host reports ${expected} for the VM.`,
      guidance:
        "The VM's address changed since the host last saw it (DHCP renewal, Default Switch subnet change) or the wrong interface is examined: " +
        'run Get-EflowVmAddr again on the Windows host; if you use a static address, compare it with Get-EflowVmEndpoint; update anything on the host that points at the old address.',
    }),
  },
  IP_STATIC_CONFIG_INCOMPLETE: {
    component: 'ip',
    severity: 'error',
    when: 'a static `.network` lacks Address with prefix, or Gateway',
    words: ({ file, missing }: { file: string; missing: string[] }) => ({
      message: `Static configuration ${file} lacks ${missing.join(' and ')}.`,
      guidance:
        'A static EFLOW address needs all three of address, prefix length and gateway: set them together from Windows ' +
        '(Add-EflowVmEndpoint -ip4Address -ip4PrefixLength -ip4GatewayAddress), or fix Address=a.b.c.d/len and Gateway= in the file and run "sudo networkctl reload".',
    }),
  },
  IP_NO_DEFAULT_ROUTE: {
    component: 'ip',
    severity: 'error',
    when: 'no default route',
    words: ({ interfaces }: { interfaces: string[] }) => ({
      message: `There is no default route (examined: ${interfaces.join(', ')}); traffic to Azure has no way out of the VM.`,
      guidance:
        'With DHCP the router option was missing from the lease; with a static address the gateway is missing (Get-EflowVmEndpoint shows what Windows configured): ' +
        'add Gateway= to the .network file and run "sudo networkctl reload". With several NICs, check that the one with internet access has a default route.',
    }),
  },
  IP_GATEWAY_UNREACHABLE: {
    component: 'ip',
    severity: 'warning',
    when: 'the gateway does not answer ping',
    words: ({ gateway, iface, detail }: { gateway: string; iface: string; detail: string }) => ({
      message: `The default gateway ${gateway} on ${iface} did not answer ping (${detail}).`,
      guidance:
        'Many gateways ignore ping, so this alone is not fatal; if DNS or ports also fail, check the gateway address (Get-EflowVmEndpoint shows the configured one) and the Hyper-V switch (Get-EflowNetwork).',
    }),
  },
  IP_INTERFACE_ERRORS: {
    component: 'ip',
    severity: 'warning',
    when: 'rx/tx errors, or drops above 1 % (at least 100)',
    words: ({ name, summary }: { name: string; summary: string }) => ({
      message: `Interface ${name} shows ${summary}.`,
      guidance:
        'Errors and drops point at a bad link, an MTU mismatch (VPNs, nested virtualization) or an overloaded host: compare the MTU with the host\'s adapter and watch the counters grow with "ip -s link show".',
    }),
  },
  IP_PING_NOT_PERMITTED: {
    component: 'ip',
    severity: 'info',
    when: 'ping lacks `NET_RAW`, so silence and filtering cannot be told apart',
    extension: true,
    words: ({ targets }: { targets: string[] }) => ({
      message: `ping is not permitted here (${targets.join(', ')}), so "unreachable" and "filtered" cannot be told apart by ping.`,
      guidance:
        'Give the module the NET_RAW capability (CapAdd ["NET_RAW"] in createOptions, as deployment.template.json does) and do not set no-new-privileges; on a host, run as root or give ping cap_net_raw.',
    }),
  },
});
