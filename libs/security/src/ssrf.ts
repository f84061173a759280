import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One range of an allow list such as `OUTBOUND_ALLOW_CIDRS`, parsed once at start-up. */
export interface ParsedCidr {
  readonly address: Address;
  readonly prefixLength: number;
  /** Canonical spelling, e.g. `127.0.0.1/32`: what start-up logs print as open. */
  readonly text: string;
}

/** Everything in 2000::/3; IPv6 outside it is not global unicast (e.g. IPv4-compatible `::a.b.c.d`). */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
/**
 * NAT64's well-known prefix. The local-use 64:ff9b:1::/48 places the IPv4 by site choice,
 * so it stays blocked whole.
 */
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/** Names that reach the machine itself or a cloud metadata service whatever DNS says. */
const BLOCKED_NAMES = new Set(['localhost', 'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data']);
/** `.localhost` always means loopback (RFC 6761); `.internal` is reserved for private networks (ICANN, 2024). */
const BLOCKED_SUFFIXES = ['.localhost', '.internal'];

/**
 * Parses a comma-separated list of addresses and CIDR ranges (`127.0.0.1/32, fd00::/8`; a bare
 * address means just itself). Empty entries are skipped.
 * @param source names the setting in the error, e.g. `OUTBOUND_ALLOW_CIDRS`.
 * @throws Error naming the first entry that is not an address or range.
 */
export function parseCidrList(spec: string, source = 'OUTBOUND_ALLOW_CIDRS'): ParsedCidr[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => parseCidr(entry, source));
}

function parseCidr(entry: string, source: string): ParsedCidr {
  const ranged = entry.includes('/') ? entry : `${entry}/${ipaddr.IPv6.isValid(entry) ? 128 : 32}`;
  // Only dotted quads: in a setting, `10.1/8` is likelier a typo than the legacy spelling of 10.0.0.1.
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(ranged) && !ipaddr.IPv6.isValidCIDR(ranged)) {
    throw new Error(
      `${source}: "${entry}" is not an IP address or CIDR range (expected e.g. 127.0.0.1/32 or fd00::/8)`,
    );
  }
  const [address, prefixLength] = ipaddr.parseCIDR(ranged);
  return { address, prefixLength, text: `${address.toString()}/${prefixLength}` };
}

/**
 * Canonical form of a host as a URL or a socket names it: lower case, without IPv6 brackets or a
 * trailing dot, and with every IPv4 spelling (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`)
 * as a dotted quad. `new URL()` already rewrites those IPv4 spellings in `hostname`; this also
 * covers hosts that did not come through it, and the trailing dot, which it keeps.
 */
export function normalizeHost(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  name = name.replace(/\.+$/, '');
  if (ipaddr.IPv4.isValid(name)) return ipaddr.IPv4.parse(name).toString();
  if (ipaddr.IPv6.isValid(name)) return ipaddr.IPv6.parse(name).toString();
  return name;
}

/** True for names that always lead inside: `localhost`, `*.localhost`, `*.internal` and cloud metadata names. */
export function isBlockedHostname(name: string): boolean {
  const host = normalizeHost(name);
  return BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/**
 * The name of the blocked range `ip` falls in (`loopback`, `private`, `linkLocal`,
 * `ipv4Mapped loopback`…), or undefined when it may be dialled. For error messages.
 */
export function blockedRange(ip: string, allow: readonly ParsedCidr[] = []): string | undefined {
  const host = normalizeHost(ip);
  if (!ipaddr.isValid(host)) return 'not an IP address';
  return classify(ipaddr.parse(host), allow);
}

function classify(address: Address, allow: readonly ParsedCidr[]): string | undefined {
  if (allow.some((cidr) => cidr.address.kind() === address.kind() && address.match(cidr.address, cidr.prefixLength))) {
    return undefined;
  }
  if (address instanceof ipaddr.IPv4) {
    const range = address.range();
    return range === 'unicast' ? undefined : range;
  }
  const embedded = embeddedIPv4(address);
  if (embedded) {
    const range = classify(embedded, allow);
    return range && `${address.range()} ${range}`;
  }
  const range: string = address.range();
  if (range !== 'unicast') return range;
  return address.match(GLOBAL_UNICAST_V6) ? undefined : 'reserved';
}

/** The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return fromWords(p[6], p[7]);
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN) ? fromWords(p[6], p[7]) : undefined;
    case '6to4': // 2002:AABB:CCDD::/48
      return fromWords(p[1], p[2]);
    default:
      return undefined;
  }
}

function fromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** Stands in for `{{memory.x}}`-style tags so a templated URL can still be parsed; it is no IP and no blocked name. */
const TAG = /\{\{[^}]*\}\}/g;

/**
 * The check made when a definition is saved: an error message when the URL is not http(s), or its
 * host is a literal blocked address or a blocked name; otherwise undefined. Hosts that are names
 * (or merge tags) pass here: what they resolve to is checked on every connect.
 */
export function checkUrlAtSave(url: string, allow: readonly ParsedCidr[] = []): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(TAG, 'tag'));
  } catch {
    return 'url is not a valid absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `url must use http or https, not ${parsed.protocol.slice(0, -1)}`;
  }
  const host = normalizeHost(parsed.hostname);
  if (isBlockedHostname(host)) return `url host ${host} is an internal name and may not be called`;
  if (!ipaddr.isValid(host)) return undefined;
  const range = blockedRange(host, allow);
  return range && `url host ${host} is a blocked address (${range})`;
}
