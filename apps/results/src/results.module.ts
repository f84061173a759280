import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@hookrunner/observability';
import { BackgroundRedisModule, RedisModule } from '@hookrunner/redis';
import { EventPublisher } from './event-publisher';
import { ResultProcessor } from './result.processor';
import { StateMergeService } from './state-merge.service';
import { TurnAssembler } from './turn-assembler';

/** Merges finished calls' state and publishes their events. */
@Module({
  imports: [BackgroundRedisModule],
  providers: [StateMergeService, EventPublisher, TurnAssembler, ResultProcessor],
})
export class ResultsModule {}

/** The results consumer as its own process: /metrics, /health and /ready on METRICS_PORT. */
@Module({ imports: [RedisModule, ObservabilityModule, ResultsModule] })
export class ResultsAppModule {}
