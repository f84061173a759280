import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { ApiAppModule } from './api.module';
import { serveApiDocs } from './openapi/openapi-document';

serve({
  role: 'api',
  module: ApiAppModule,
  port: (c) => c.http.port,
  requireSecretsKey: true,
  configure: serveApiDocs,
});
