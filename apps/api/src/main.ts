import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { ApiAppModule } from './api.module';

serve({ role: 'api', module: ApiAppModule, port: (c) => c.http.port, requireSecretsKey: true });
