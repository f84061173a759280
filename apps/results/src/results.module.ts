import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@hookrunner/observability';
import { BackgroundRedisModule, RedisModule } from '@hookrunner/redis';
import { EventPublisher } from './event-publisher';
import { ResultProcessor } from './result.processor';
import { StateMergeService } from './state-merge.service';

/** Merges finished calls' state and publishes their events. */
@Module({ imports: [BackgroundRedisModule], providers: [StateMergeService, EventPublisher, ResultProcessor] })
export class ResultsModule {}

/** The results consumer as its own process: /metrics, /health and /ready on METRICS_PORT. */
@Module({ imports: [RedisModule, ObservabilityModule, ResultsModule] })
export class ResultsAppModule {}
