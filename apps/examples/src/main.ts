import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ExamplesConfig, readExamplesConfig } from './examples-config';
import { ExamplesModule } from './examples.module';

async function bootstrap(config: ExamplesConfig): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ExamplesModule, new FastifyAdapter());
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  Logger.log(`Webhook examples listening on http://${config.host}:${config.port}`, 'Examples');
}

let config: ExamplesConfig;
try {
  config = readExamplesConfig(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
bootstrap(config).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
