import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { REDIS, type RedisClient, TIMED_OUT, within } from '@hookrunner/redis';
import { Readiness } from './readiness';

const PING_TIMEOUT_MS = 1_000;

/** Liveness and readiness for every process, without authentication. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: Readiness,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  /** The process is alive and its event loop answers. */
  @Get('health')
  live() {
    return { status: 'ok' };
  }

  /** Redis answers PING within a second, and every role-specific check passes; 503 otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.pingRedis(),
      ...this.readiness.names().map((name) => () => this.runCheck(name)),
    ]);
  }

  private async runCheck(name: string) {
    const reason = await this.readiness.reasonNotReady(name);
    return reason ? this.indicator.check(name).down({ reason }) : this.indicator.check(name).up();
  }

  private async pingRedis() {
    const check = this.indicator.check('redis');
    try {
      if ((await within(this.redis.ping(), PING_TIMEOUT_MS)) === TIMED_OUT)
        return check.down({ reason: `no answer within ${PING_TIMEOUT_MS} ms` });
      return check.up();
    } catch (err) {
      return check.down({ reason: (err as Error).message });
    }
  }
}
