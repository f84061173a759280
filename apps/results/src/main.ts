import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { ResultsAppModule } from './results.module';

serve(ResultsAppModule, 'results', (c) => c.http.metricsPort);
