/** Where the examples server listens. */
export interface ExamplesConfig {
  /** EXAMPLES_HOST, default 127.0.0.1 (0.0.0.0 in a container). */
  host: string;
  /** EXAMPLES_PORT, an integer 1–65535, default 4000. */
  port: number;
}

/** Reads the config from the environment; throws naming the variable when a value is invalid. */
export function readExamplesConfig(env: NodeJS.ProcessEnv): ExamplesConfig {
  const host = env.EXAMPLES_HOST || '127.0.0.1';
  const rawPort = env.EXAMPLES_PORT ?? '4000';
  const port = /^\d+$/.test(rawPort) ? Number(rawPort) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`EXAMPLES_PORT must be an integer from 1 to 65535, got "${rawPort}"`);
  }
  return { host, port };
}
