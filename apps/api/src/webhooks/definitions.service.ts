import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, WEBHOOK_DEFAULTS, WebhookDefinition } from '@hookrunner/contracts';
import { APP_CONFIG, AppConfig, SECRETS_KEY } from '@hookrunner/config';
import { keys, REDIS, type RedisClient } from '@hookrunner/redis';
import { checkUrlAtSave, seal } from '@hookrunner/security';
import { DomainError } from '../errors/domain-error';
import { CreateWebhookDto, WebhookBodyDto } from './dto/webhook.dto';

/** Most definitions one bot may hold. */
export const MAX_WEBHOOKS_PER_BOT = 1_000;

/** What every response shows instead of a header value. */
export const HEADER_MASK = '***';

/** Webhook definitions, one Redis hash per bot (name → JSON). */
@Injectable()
export class DefinitionsService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SECRETS_KEY) private readonly secretsKey: Buffer,
  ) {}

  async create(botId: string, dto: CreateWebhookDto): Promise<WebhookDefinition> {
    const now = new Date().toISOString();
    const definition = this.toStored(dto.name, dto, now, now);
    const result = await this.redis.hookrunnerCreateWebhook(
      keys.webhooks(botId),
      dto.name,
      JSON.stringify(definition),
      MAX_WEBHOOKS_PER_BOT,
    );
    if (result === 'exists')
      throw new DomainError(
        ErrorCode.WebhookExists,
        `bot ${botId} already has a webhook named ${JSON.stringify(dto.name)}`,
      );
    if (result === 'limit')
      throw new DomainError(ErrorCode.TooManyWebhooks, `a bot may have at most ${MAX_WEBHOOKS_PER_BOT} webhooks`);
    return definition;
  }

  async replace(botId: string, name: string, dto: WebhookBodyDto): Promise<WebhookDefinition> {
    const existing = await this.get(botId, name);
    const definition = this.toStored(name, dto, existing.createdAt, new Date().toISOString(), existing.headers);
    const replaced = await this.redis.hookrunnerReplaceWebhook(keys.webhooks(botId), name, JSON.stringify(definition));
    if (replaced !== 1) throw notFound(botId, name);
    return definition;
  }

  async get(botId: string, name: string): Promise<WebhookDefinition> {
    const raw = await this.redis.hget(keys.webhooks(botId), name);
    if (raw === null) throw notFound(botId, name);
    return JSON.parse(raw) as WebhookDefinition;
  }

  async list(botId: string): Promise<WebhookDefinition[]> {
    const all = await this.redis.hvals(keys.webhooks(botId));
    return all.map((raw) => JSON.parse(raw) as WebhookDefinition).sort((a, b) => a.name.localeCompare(b.name));
  }

  async delete(botId: string, name: string): Promise<void> {
    const removed = await this.redis.hdel(keys.webhooks(botId), name);
    if (removed === 0) throw notFound(botId, name);
  }

  /**
   * The definition as stored: its URL checked against the outbound policy (a literal blocked
   * address is refused now; names are checked again at every connect), its header values sealed
   * (AES-256-GCM) because they may be credentials. On replace, a value sent as the mask `***` keeps
   * the stored (`kept`, sealed) value of that header, so a definition read back can be sent back.
   */
  private toStored(
    name: string,
    dto: WebhookBodyDto,
    createdAt: string,
    updatedAt: string,
    kept: Record<string, string> = {},
  ): WebhookDefinition {
    const blocked = checkUrlAtSave(dto.url, this.config.outbound.allow);
    if (blocked) throw new DomainError(ErrorCode.BlockedUrl, blocked);
    const definition = toDefinition(name, dto, createdAt, updatedAt);
    const stored = (header: string, value: string) =>
      value === HEADER_MASK ? keptValue(kept, header) : seal(this.secretsKey, value);
    definition.headers = Object.fromEntries(Object.entries(definition.headers).map(([k, v]) => [k, stored(k, v)]));
    return definition;
  }
}

export function notFound(botId: string, name: string): DomainError {
  return new DomainError(ErrorCode.WebhookNotFound, `bot ${botId} has no webhook named ${JSON.stringify(name)}`);
}

function toDefinition(name: string, dto: WebhookBodyDto, createdAt: string, updatedAt: string): WebhookDefinition {
  return {
    name,
    method: dto.method,
    url: dto.url,
    params: dto.params ?? {},
    headers: lowerCaseNames(dto.headers ?? {}),
    timeoutMs: dto.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
    retry: {
      attempts: dto.retry?.attempts ?? WEBHOOK_DEFAULTS.retry.attempts,
      backoffMs: dto.retry?.backoffMs ?? WEBHOOK_DEFAULTS.retry.backoffMs,
    },
    createdAt,
    updatedAt,
  };
}

function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Header values may be credentials: they are never returned, only their names. */
export function presentDefinition(definition: WebhookDefinition): WebhookDefinition {
  return { ...definition, headers: maskValues(definition.headers) };
}

export function maskValues(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((k) => [k, HEADER_MASK]));
}

function keptValue(kept: Record<string, string>, header: string): string {
  if (Object.hasOwn(kept, header)) return kept[header];
  const message = `headers.${header} is ${HEADER_MASK}, but there is no stored value to keep`;
  throw new DomainError(ErrorCode.InvalidInput, message);
}
