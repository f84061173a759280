import dns from 'node:dns';
import net from 'node:net';
import { Agent, buildConnector } from 'undici';
import { BLOCKED_ADDRESS_CODE } from '@hookrunner/webhook';
import { type ParsedCidr, blockedRange, isBlockedHostname, normalizeHost } from './ssrf';

/** A connection refused because of where it would have gone. Carries no URL, only the host. */
export class BlockedAddressError extends Error {
  readonly code = BLOCKED_ADDRESS_CODE;

  constructor(
    readonly host: string,
    /** The resolved (or literal) address refused; undefined when the name itself is blocked. */
    readonly address: string | undefined,
    /** The blocked range's name, e.g. `private` or `linkLocal`. */
    readonly range: string,
  ) {
    super(
      address === undefined || address === host
        ? `blocked outbound connection to ${host} (${range})`
        : `blocked outbound connection to ${host}: it resolved to ${address} (${range})`,
    );
    this.name = 'BlockedAddressError';
  }
}

/** Resolves every address of a name, as `dns.lookup(hostname, { all: true }, cb)` does. Injectable for tests. */
export type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `dns.lookup`-compatible function (for `net.connect`'s `lookup` option) that resolves with
 * `resolve` and fails with {@link BlockedAddressError} if the name is blocked or ANY address it
 * resolves to is blocked — so the address checked is the address dialled, and a name that
 * rebinds to an internal address between calls is caught on the connect that would use it.
 */
export function guardedLookup(allow: readonly ParsedCidr[], resolve: Resolver = systemResolver): net.LookupFunction {
  return (hostname: string, options: dns.LookupOptions | number | undefined, callback: LookupCallback) => {
    const opts: dns.LookupOptions = typeof options === 'number' ? { family: options } : (options ?? {});
    const fail = (err: NodeJS.ErrnoException) => callback(err, opts.all ? [] : '');
    const host = normalizeHost(hostname);
    if (isBlockedHostname(host)) {
      process.nextTick(fail, new BlockedAddressError(host, undefined, 'internal name'));
      return;
    }
    resolve(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return fail(err);
      if (addresses.length === 0)
        return fail(Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }));
      for (const { address } of addresses) {
        const range = blockedRange(address, allow);
        if (range) return fail(new BlockedAddressError(host, address, range));
      }
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * An undici connector that refuses blocked destinations: literal IP hosts are checked here
 * (`net.connect` does not call `lookup` for them), names by {@link guardedLookup} at connect time.
 * @param connectOptions undici's connect options (`timeout`, TLS settings…); `lookup` is replaced.
 */
export function guardedConnector(
  allow: readonly ParsedCidr[],
  connectOptions: buildConnector.BuildOptions = {},
  resolve?: Resolver,
): buildConnector.connector {
  const connect = buildConnector({ ...connectOptions, lookup: guardedLookup(allow, resolve) });
  return (options, callback) => {
    const host = normalizeHost(options.hostname);
    // Whatever node would dial without a lookup must pass the address check itself.
    const literal = net.isIP(options.hostname) !== 0 || net.isIP(host) !== 0;
    const range = literal ? blockedRange(host, allow) : isBlockedHostname(host) ? 'internal name' : undefined;
    if (range) {
      callback(new BlockedAddressError(host, literal ? host : undefined, range), null);
      return;
    }
    connect(options, callback);
  };
}

/** Agent options, with undici's connect options as an object (the connector is ours). */
export type GuardedAgentOptions = Omit<Agent.Options, 'connect'> & { connect?: buildConnector.BuildOptions };

/**
 * An undici Agent whose every new connection goes through {@link guardedConnector}. Options such
 * as the connect timeout belong in `agentOptions.connect`: undici ignores its top-level connect
 * settings (`connectTimeout`, `autoSelectFamily`…) once a connector is given.
 */
export function createGuardedAgent(
  allow: readonly ParsedCidr[],
  agentOptions: GuardedAgentOptions = {},
  resolve?: Resolver,
): Agent {
  const { connect, ...rest } = agentOptions;
  return new Agent({ ...rest, connect: guardedConnector(allow, connect, resolve) });
}
