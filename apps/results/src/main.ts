import 'reflect-metadata';
import { serve } from '@hookrunner/observability';
import { ResultsAppModule } from './results.module';

serve({ role: 'results', module: ResultsAppModule, port: (c) => c.http.metricsPort });
