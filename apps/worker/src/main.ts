import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { WorkerAppModule } from './worker.module';

serve({ role: 'worker', module: WorkerAppModule, port: (c) => c.http.metricsPort, requireSecretsKey: true });
