import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { ApiAppModule } from './api.module';
import { serveApiDocs } from './openapi/openapi-document';

serve(ApiAppModule, 'api', (c) => c.http.port, serveApiDocs);
