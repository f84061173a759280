import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HookrunnerConfigModule, loadConfig } from '@hookrunner/config';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ApiAppModule, ApiModule } from '../api.module';
import { CallEventDto } from '../events/dto/call-event.dto';

const DESCRIPTION = [
  'Webhook execution engine for chatbot platforms. Every `/v1` route needs `Authorization: Bearer <API key>`.',
  'Errors are `ErrorBody`. Finished calls are published as `CallEvent` on the Redis channel',
  '`hookrunner:events:<botId>` and appended to the stream `hookrunner:events`.',
].join(' ');

/** The API's OpenAPI document, built from the controllers' and DTOs' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Hookrunner API')
    .setDescription(DESCRIPTION)
    .setVersion('v1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS.' })
    .build();
  return SwaggerModule.createDocument(app, config, {
    // Only the API's routes: /health, /ready and /metrics are the operations surface, described in the README.
    include: [ApiModule],
    extraModels: [CallEventDto],
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
}

/**
 * Serves the document at GET /openapi.json and a reference at GET /docs, both without a key
 * (the guard only asks for one under /v1). The reference's scripts and styles come from this
 * process, never from a third-party origin.
 */
export function serveApiDocs(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Hookrunner API',
    // Swagger UI would otherwise fetch a validity badge from a public validator.
    swaggerOptions: { validatorUrl: null },
  });
}

/** The document without starting anything: Nest's preview mode builds the module graph only. */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  // The default configuration (nothing connects in preview mode; the key only completes the graph).
  const config = loadConfig({ SECRETS_KEY: '00'.repeat(32) });
  @Module({ imports: [HookrunnerConfigModule.forRoot(config), ApiAppModule] })
  class DocumentModule {}
  const app = await NestFactory.create(DocumentModule, new FastifyAdapter(), {
    preview: true,
    abortOnError: false,
    logger: false,
  });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

/** The committed file's text: stable key order, two-space indent, final newline. */
export function renderOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
