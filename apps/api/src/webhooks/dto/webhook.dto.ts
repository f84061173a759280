import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { HttpMethod, WEBHOOK_DEFAULTS, WEBHOOK_LIMITS } from '@hookrunner/contracts';
import { IsIdentifier, IsStringRecord, IsWebhookUrl, STRING_RECORD_SCHEMA } from '../../common/validators';
import { CallInputDto } from '../../calls/dto/call-input.dto';

/** Printable, no control characters: names travel in URLs (encoded), logs and events. */
const NAME_PATTERN = /^[^\u0000-\u001f\u007f]+$/;

@ApiSchema({ name: 'Retry' })
export class RetryDto {
  @ApiPropertyOptional({
    description: 'Tries in all, the first included.',
    type: 'integer',
    minimum: WEBHOOK_LIMITS.attempts.min,
    maximum: WEBHOOK_LIMITS.attempts.max,
    default: WEBHOOK_DEFAULTS.retry.attempts,
  })
  @IsOptional()
  @IsInt()
  @Min(WEBHOOK_LIMITS.attempts.min)
  @Max(WEBHOOK_LIMITS.attempts.max)
  attempts?: number;

  @ApiPropertyOptional({
    description: 'Base of the exponential backoff between tries, in ms.',
    type: 'integer',
    minimum: WEBHOOK_LIMITS.backoffMs.min,
    maximum: WEBHOOK_LIMITS.backoffMs.max,
    default: WEBHOOK_DEFAULTS.retry.backoffMs,
  })
  @IsOptional()
  @IsInt()
  @Min(WEBHOOK_LIMITS.backoffMs.min)
  @Max(WEBHOOK_LIMITS.backoffMs.max)
  backoffMs?: number;
}

/** Body of PUT /v1/bots/{botId}/webhooks/{name}: the definition minus its name (the path names it). */
@ApiSchema({ name: 'WebhookBody' })
export class WebhookBodyDto {
  @ApiProperty({ enum: ['GET', 'POST'] })
  @IsIn(['GET', 'POST'], { message: 'method must be GET or POST' })
  method: HttpMethod;

  @ApiProperty({
    description: 'Absolute http(s) URL; may hold merge tags.',
    maxLength: 2048,
    example: 'https://example.com/random_number',
  })
  @IsString()
  @Length(1, 2048)
  @IsWebhookUrl()
  url: string;

  @ApiPropertyOptional({
    ...STRING_RECORD_SCHEMA,
    description: 'GET: the query string; POST: the JSON body. Values may hold merge tags.',
  })
  @IsOptional()
  @IsStringRecord()
  params?: Record<string, string>;

  @ApiPropertyOptional({
    ...STRING_RECORD_SCHEMA,
    description: 'Sent with every call; stored encrypted, shown as ***.',
  })
  @IsOptional()
  @IsStringRecord({ headers: true })
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'Bounds the whole call, in ms.',
    type: 'integer',
    minimum: WEBHOOK_LIMITS.timeoutMs.min,
    maximum: WEBHOOK_LIMITS.timeoutMs.max,
    default: WEBHOOK_DEFAULTS.timeoutMs,
  })
  @IsOptional()
  @IsInt()
  @Min(WEBHOOK_LIMITS.timeoutMs.min)
  @Max(WEBHOOK_LIMITS.timeoutMs.max)
  timeoutMs?: number;

  @ApiPropertyOptional({ type: RetryDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryDto)
  retry?: RetryDto;
}

/** Body of POST /v1/bots/{botId}/webhooks. */
@ApiSchema({ name: 'CreateWebhook' })
export class CreateWebhookDto extends WebhookBodyDto {
  @ApiProperty({ description: 'Unique per bot.', minLength: 1, maxLength: 128, example: 'random_number' })
  @IsString()
  @Length(1, 128)
  @Matches(NAME_PATTERN, { message: 'name must not contain control characters' })
  name: string;
}

/** Body of POST /v1/bots/{botId}/webhooks/{name}/test: the call, performed once, with no state change. */
@ApiSchema({ name: 'TestWebhook' })
export class TestWebhookDto extends CallInputDto {
  @IsIdentifier({
    optional: true,
    description: 'Whose stored state fills merge tags; none when absent.',
    example: 'alice',
  })
  userId?: string;
}

/** Body of PUT /v1/bots/{botId}/webhooks/{name}: `name` may be repeated but must match the path. */
@ApiSchema({ name: 'ReplaceWebhook' })
export class ReplaceWebhookDto extends WebhookBodyDto {
  @ApiPropertyOptional({ description: 'If given, must match the path.' })
  @IsOptional()
  @IsString()
  name?: string;
}
