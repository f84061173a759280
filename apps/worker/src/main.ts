import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { WorkerAppModule } from './worker.module';

serve(WorkerAppModule, 'worker', (c) => c.http.metricsPort);
