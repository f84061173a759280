import { Controller, Get, Header } from '@nestjs/common';
import { registry } from './metrics';

/** Prometheus text exposition; no tenant data, so no authentication. */
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('content-type', registry.contentType)
  metrics(): Promise<string> {
    return registry.metrics();
  }
}
