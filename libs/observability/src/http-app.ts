import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, validateEnvironment } from '@hookrunner/config';
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
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, { bufferLogs: true, bodyParser: false });
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
 * JSON bodies, refusing prototype-polluting keys at any depth, and nesting past MAX_JSON_DEPTH,
 * with a 400 that names where (JSON.parse makes `__proto__` an own property, so nothing is
 * polluted while we look).
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  const { forbidden, tooDeep } = inspectJson(value, 'body', 1);
  if (tooDeep) throw badRequest(`body nests deeper than ${MAX_JSON_DEPTH} levels (at ${shortPath(tooDeep)})`);
  if (forbidden.length > 0) throw badRequest(`${shortPath(forbidden[0])} is not allowed: __proto__, constructor and prototype keys are refused`);
  return value;
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

/**
 * The whole of a role's main(): build the app, close it on signals, listen on the port the role
 * uses. A bad configuration or a port in use stops the process with a message and exit code 1.
 * `configure` runs before listening: routes Nest does not own (the API's docs) are added there.
 */
export function serve(
  module: unknown,
  role: string,
  portOf: (config: AppConfig) => number,
  configure?: (app: NestFastifyApplication) => void,
): void {
  const run = async () => {
    // The body limit is the adapter's, fixed before the modules (and their config) exist.
    const app = await createHttpApp(module, { bodyLimit: validateEnvironment(process.env).MAX_BODY_BYTES });
    const config = app.get<AppConfig>(APP_CONFIG);
    configure?.(app);
    closeOnSignals(app, role);
    await app.listen(portOf(config), config.http.host);
    new NestLogger(role).log(`listening on http://${config.http.host}:${portOf(config)}`);
  };
  run().catch((err: Error) => {
    console.error(`hookrunner ${role}: ${err.message}`);
    process.exit(1);
  });
}
