import { Module } from '@nestjs/common';
import { ExamplesController } from './examples.controller';
import { HealthController } from './health.controller';

@Module({ controllers: [ExamplesController, HealthController] })
export class ExamplesModule {}
