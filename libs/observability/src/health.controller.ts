import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS } from '@hookrunner/redis';
import { Readiness } from './readiness';

/** Liveness and readiness for every process, without authentication. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: Readiness,
    @Inject(REDIS) private readonly redis: Redis,
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
    return this.health.check([() => this.pingRedis(), ...this.readiness.names().map((name) => () => this.runCheck(name))]);
  }

  private async runCheck(name: string) {
    const reason = await this.readiness.reasonNotReady(name);
    return reason ? this.indicator.check(name).down({ reason }) : this.indicator.check(name).up();
  }

  private async pingRedis() {
    const check = this.indicator.check('redis');
    try {
      await withTimeout(this.redis.ping(), 1_000);
      return check.up();
    } catch (err) {
      return check.down({ reason: (err as Error).message });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
