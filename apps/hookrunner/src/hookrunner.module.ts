import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@hookrunner/observability';
import { RedisModule } from '@hookrunner/redis';
import { ApiModule } from '../../api/src/api.module';
import { ResultsModule } from '../../results/src/results.module';
import { WorkerModule } from '../../worker/src/worker.module';

/** Every role in one process: the embedded mode for trying Hookrunner and for small deployments. */
@Module({ imports: [RedisModule, ObservabilityModule, ApiModule, WorkerModule, ResultsModule] })
export class HookrunnerModule {}
