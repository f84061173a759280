import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { BotStats } from '@hookrunner/redis';
import { JSON_OBJECT_SCHEMA } from '../../common/validators';

@ApiSchema({ name: 'Profile' })
export class ProfileDto {
  @ApiProperty({ ...JSON_OBJECT_SCHEMA, description: 'The user’s profile; no expiry.' })
  attributes: Record<string, unknown>;
}

@ApiSchema({ name: 'SessionMemory' })
export class SessionMemoryDto {
  @ApiProperty({
    ...JSON_OBJECT_SCHEMA,
    description: 'The session’s memory; expires SESSION_TTL_SECONDS after its last call.',
  })
  memory: Record<string, unknown>;
}

@ApiSchema({ name: 'StatsCalls' })
export class StatsCallsDto {
  @ApiProperty({ type: 'integer' })
  succeeded: number;

  @ApiProperty({ type: 'integer' })
  failed: number;

  @ApiProperty({ type: 'integer' })
  total: number;
}

@ApiSchema({ name: 'StatsLatency' })
export class StatsLatencyDto {
  @ApiProperty({ type: 'number', nullable: true })
  p50: number | null;

  @ApiProperty({ type: 'number', nullable: true })
  p90: number | null;

  @ApiProperty({ type: 'number', nullable: true })
  p99: number | null;
}

/** GET /v1/bots/{botId}/stats: the last hour. */
@ApiSchema({ name: 'BotStats' })
export class BotStatsDto implements BotStats {
  @ApiProperty({ type: 'integer', example: 3600 })
  windowSeconds: number;

  @ApiProperty({ type: StatsCallsDto })
  calls: StatsCallsDto;

  @ApiProperty({ type: StatsLatencyDto, description: 'From the 202 to the event; null with no calls.' })
  latencySeconds: StatsLatencyDto;
}

/** 201 of POST /v1/bots/{botId}/signing-secret. */
@ApiSchema({ name: 'SigningSecretCreated' })
export class SigningSecretCreatedDto {
  @ApiProperty({ description: '`whsec_...`: shown this once, never again.' })
  secret: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({
    format: 'date-time',
    required: false,
    description: 'When the replaced secret stops signing; absent on the first.',
  })
  previousExpiresAt?: string;
}
