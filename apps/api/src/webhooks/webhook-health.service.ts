import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import type { WebhookDefinition, WebhookHealth } from '@hookrunner/contracts';
import { originOf } from '@hookrunner/isolation';
import { CircuitStore, circuitStoreFor, REDIS, type RedisClient } from '@hookrunner/redis';

export type DefinitionWithHealth = WebhookDefinition & { health?: WebhookHealth };

/**
 * The health of webhooks' origins, from the circuit breakers the workers share: one round trip
 * for a whole list. A URL whose origin holds a merge tag has no fixed origin, so no health; with
 * the breaker off (CIRCUIT_MIN_ATTEMPTS=0) nothing tracks an origin, so no webhook has one.
 */
@Injectable()
export class WebhookHealthService {
  private readonly circuits: CircuitStore | undefined;

  constructor(@Inject(REDIS) redis: RedisClient, @Inject(APP_CONFIG) config: AppConfig) {
    this.circuits = circuitStoreFor(redis, config.isolation.circuit);
  }

  async withHealth(definitions: WebhookDefinition[]): Promise<DefinitionWithHealth[]> {
    if (!this.circuits) return definitions;
    const origins = definitions.map((d) => fixedOrigin(d.url));
    const known = [...new Set(origins.filter((o): o is string => o !== undefined))];
    const views = new Map((await this.circuits.read(known)).map((view, i) => [known[i], view]));
    return definitions.map((definition, i) => {
      const view = origins[i] === undefined ? undefined : views.get(origins[i]);
      if (!view) return definition;
      const health: WebhookHealth = {
        circuit: view.state,
        failureRatio: view.attempts === 0 ? 0 : Math.round((view.failures / view.attempts) * 1000) / 1000,
      };
      if (view.openedAt !== undefined) health.openedAt = new Date(view.openedAt).toISOString();
      return { ...definition, health };
    });
  }
}

function fixedOrigin(url: string): string | undefined {
  const origin = originOf(url);
  return origin === undefined || /\{\{|%7B%7B/i.test(origin) ? undefined : origin;
}
