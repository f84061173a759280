import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, validateEnvironment } from '@hookrunner/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { httpRequestDurationSeconds, httpRequestsTotal, statusClass } from './metrics';

export interface HttpAppOptions {
  /** Largest request body accepted; larger ones get 413. */
  bodyLimit?: number;
}

/** Builds a Nest app on Fastify with JSON logs and per-route request metrics. */
export async function createHttpApp(module: unknown, options: HttpAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, return503OnClosing: true });
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
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
 */
export function serve(module: unknown, role: string, portOf: (config: AppConfig) => number): void {
  const run = async () => {
    // The body limit is the adapter's, fixed before the modules (and their config) exist.
    const app = await createHttpApp(module, { bodyLimit: validateEnvironment(process.env).MAX_BODY_BYTES });
    const config = app.get<AppConfig>(APP_CONFIG);
    closeOnSignals(app, role);
    await app.listen(portOf(config), config.http.host);
  };
  run().catch((err: Error) => {
    console.error(`hookrunner ${role}: ${err.message}`);
    process.exit(1);
  });
}
