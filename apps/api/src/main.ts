import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { ApiAppModule } from './api.module';

serve(ApiAppModule, 'api', (c) => c.http.port);
