import { INestApplication, Module, Logger as NestLogger } from '@nestjs/common';
import { AppConfig, HookrunnerConfigModule, loadConfig } from '@hookrunner/config';
import { inspectJson, MAX_JSON_DEPTH, shortPath } from '@hookrunner/webhook';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppLogger } from './app-logger';
import { httpRequestDurationSeconds, httpRequestsTotal, statusClass } from './metrics';

export interface HttpAppOptions {
  /** Largest request body accepted; larger ones get 413. */
  bodyLimit?: number;
}

/** Builds a Nest app on Fastify with JSON logs and per-route request metrics. */
export async function createHttpApp(module: unknown, options: HttpAppOptions = {}): Promise<NestFastifyApplication> {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  // Path parameters carry ids up to 128 characters and URL-encoded webhook names (up to 9 bytes a character).
  const adapter = new FastifyAdapter({ bodyLimit, return503OnClosing: true, routerOptions: { maxParamLength: 2048 } });
  // bodyParser off: the JSON parser below replaces Fastify's own and Nest's.
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(AppLogger));
  const fastify = adapter.getInstance();
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  adapter.getInstance().addHook('onResponse', (request, reply, done) => {
    // The route template, never the raw path: one series per route, not per bot or call.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestsTotal.inc({ route, method: request.method, status: statusClass(reply.statusCode) });
    httpRequestDurationSeconds.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
  return app;
}

/**
 * JSON bodies, refusing a body that is not an object (every write endpoint takes one),
 * prototype-polluting keys at any depth, and nesting past MAX_JSON_DEPTH, with a 400 that names
 * where (JSON.parse makes `__proto__` an own property, so nothing is polluted while we look).
 * An empty body stays `undefined`: no body, which the routes that take none expect.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  // Checked here, before any route: validation pipes read `null` as an empty object.
  const kind = nonObjectKind(value);
  if (kind) throw badRequest(`body must be a JSON object, not ${kind}`);
  const { forbidden, tooDeep } = inspectJson(value, 'body', 1);
  if (tooDeep) throw badRequest(`body nests deeper than ${MAX_JSON_DEPTH} levels (at ${shortPath(tooDeep)})`);
  if (forbidden.length > 0)
    throw badRequest(
      `${shortPath(forbidden[0])} is not allowed: __proto__, constructor and prototype keys are refused`,
    );
  return value;
}

/**
 * What a parsed JSON value is when it is not an object (`null`, `an array`, `a number`...);
 * undefined for an object.
 */
function nonObjectKind(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? undefined : `a ${typeof value}`;
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { name: 'Bad Request', statusCode: 400 });
}

/**
 * Closes the app on SIGTERM/SIGINT (Nest's shutdown hooks run: workers drain, connections close)
 * and exits 0. A second signal exits at once.
 */
export function closeOnSignals(app: INestApplication, name: string): void {
  const logger = new NestLogger(name);
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closing) process.exit(1);
      closing = true;
      logger.log(`${signal} received: finishing in-flight work, then exiting`);
      app.close().then(
        () => process.exit(0),
        (err: Error) => {
          logger.error(`shutdown failed: ${err.message}`);
          process.exit(1);
        },
      );
    });
  }
}

export interface ServeOptions {
  /** Names the process in its logs. */
  role: string;
  /** The role's root module; the configuration module is added around it. */
  module: unknown;
  /** The port the role listens on. */
  port: (config: AppConfig) => number;
  /** The role seals or opens secrets: it cannot start without SECRETS_KEY. */
  requireSecretsKey?: boolean;
  /** Configuration the caller loaded already (the one-process mode prepares its environment first). */
  config?: AppConfig;
  /** Runs before listening: routes Nest does not own (the API's docs) are added here. */
  configure?: (app: NestFastifyApplication) => void;
}

/**
 * The whole of a role's main(): load the configuration (validated once, here), build the app,
 * close it on signals, listen on the role's port. A bad configuration or a port in use stops the
 * process with a message and exit code 1.
 */
export function serve(options: ServeOptions): void {
  const run = async () => {
    const config = options.config ?? loadConfig(process.env, { requireSecretsKey: options.requireSecretsKey });
    @Module({ imports: [HookrunnerConfigModule.forRoot(config), options.module as never] })
    class RootModule {}
    const app = await createHttpApp(RootModule, { bodyLimit: config.http.maxBodyBytes });
    options.configure?.(app);
    closeOnSignals(app, options.role);
    await app.listen(options.port(config), config.http.host);
    new NestLogger(options.role).log(`listening on http://${config.http.host}:${options.port(config)}`);
  };
  run().catch((err: Error) => {
    console.error(`hookrunner ${options.role}: ${err.message}`);
    process.exit(1);
  });
}
