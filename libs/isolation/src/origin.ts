/**
 * The origin of a URL (scheme, host and port, the default port left out as browsers do): the unit
 * the bulkhead and the circuit breaker count by. Undefined when the URL cannot be parsed or has no
 * network origin.
 */
export function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
