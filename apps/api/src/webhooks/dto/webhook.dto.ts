import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { HttpMethod, WEBHOOK_LIMITS } from '@hookrunner/contracts';
import { IsStateObject, IsStringRecord, IsWebhookUrl } from '../../common/validators';

/** Printable, no control characters: names travel in URLs (encoded), logs and events. */
const NAME_PATTERN = /^[^\u0000-\u001f\u007f]+$/;

export class RetryDto {
  @IsOptional() @IsInt() @Min(WEBHOOK_LIMITS.attempts.min) @Max(WEBHOOK_LIMITS.attempts.max)
  attempts?: number;

  @IsOptional() @IsInt() @Min(WEBHOOK_LIMITS.backoffMs.min) @Max(WEBHOOK_LIMITS.backoffMs.max)
  backoffMs?: number;
}

/** Body of PUT /v1/bots/{botId}/webhooks/{name}: the definition minus its name (the path names it). */
export class WebhookBodyDto {
  @IsIn(['GET', 'POST'], { message: 'method must be GET or POST' })
  method: HttpMethod;

  @IsString()
  @Length(1, 2048)
  @IsWebhookUrl()
  url: string;

  @IsOptional() @IsStringRecord()
  params?: Record<string, string>;

  @IsOptional() @IsStringRecord({ headers: true })
  headers?: Record<string, string>;

  @IsOptional() @IsInt() @Min(WEBHOOK_LIMITS.timeoutMs.min) @Max(WEBHOOK_LIMITS.timeoutMs.max)
  timeoutMs?: number;

  @IsOptional() @ValidateNested() @Type(() => RetryDto)
  retry?: RetryDto;
}

/** Body of POST /v1/bots/{botId}/webhooks. */
export class CreateWebhookDto extends WebhookBodyDto {
  @IsString() @Length(1, 128) @Matches(NAME_PATTERN, { message: 'name must not contain control characters' })
  name: string;
}

/** Body of POST /v1/bots/{botId}/webhooks/{name}/test: the call, performed once, with no state change. */
export class TestWebhookDto {
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9\-_.:]{1,128}$/, { message: 'userId must be 1-128 characters of letters, digits, -, _, ., :' })
  userId?: string;

  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9\-_.:]{1,128}$/, { message: 'sessionId must be 1-128 characters of letters, digits, -, _, ., :' })
  sessionId?: string;

  @IsOptional() @IsStringRecord()
  params?: Record<string, string>;

  @IsOptional() @IsStateObject()
  memory?: Record<string, unknown>;

  @IsOptional() @IsStateObject()
  user?: Record<string, unknown>;
}

/** Body of PUT /v1/bots/{botId}/webhooks/{name}: `name` may be repeated but must match the path. */
export class ReplaceWebhookDto extends WebhookBodyDto {
  @IsOptional() @IsString()
  name?: string;
}
