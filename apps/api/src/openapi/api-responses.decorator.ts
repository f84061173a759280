import { applyDecorators, Type } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiParam, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { IDENTIFIER_PATTERN } from '@hookrunner/contracts';
import { ErrorBodyDto } from '../errors/error-body.dto';

/** Why each error status is answered; an operation lists those it can answer. */
const ERROR_REASONS = {
  400: 'Invalid input: the message names the field and the rule.',
  404: 'Unknown webhook, call or route.',
  409: 'Conflict: the webhook name is taken, or the call cannot be retried now.',
  410: 'The failed call is older than its retention and can no longer be retried.',
  429: 'Over RATE_LIMIT_PER_BOT or MAX_QUEUE_DEPTH: retry after Retry-After seconds.',
} as const;

export type ErrorStatus = keyof typeof ERROR_REASONS;

const RETRY_AFTER = { 'retry-after': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } };

/**
 * The error replies of one operation, as ErrorBodyDto. Every /v1 route also answers 401/403
 * (no or unknown key / a key restricted to other bots) and 503 (Redis unreachable, nothing changed).
 */
export function ApiErrors(...statuses: ErrorStatus[]) {
  const ref = { $ref: getSchemaPath(ErrorBodyDto) };
  return applyDecorators(
    ApiExtraModels(ErrorBodyDto),
    ApiBearerAuth(),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: ERROR_REASONS[status],
        schema: ref,
        ...(status === 429 ? { headers: RETRY_AFTER } : {}),
      }),
    ),
    ApiResponse({ status: 401, description: 'No API key, or an unknown one.', schema: ref }),
    ApiResponse({ status: 403, description: 'The API key may not act for this bot.', schema: ref }),
    ApiResponse({
      status: 503,
      description: 'Redis is unreachable; nothing was changed. Retry-After: 1.',
      schema: ref,
      headers: RETRY_AFTER,
    }),
  );
}

/** A successful reply whose body is `type`. */
export function ApiOk(status: 200 | 201 | 202, type: Type<unknown>, description: string) {
  return ApiResponse({ status, type, description });
}

/** Path parameters that are identifiers (botId, userId, sessionId, callId): 400 when they break the pattern. */
export function ApiIdentifiers(...names: string[]) {
  return applyDecorators(
    ...names.map((name) =>
      ApiParam({ name, schema: { type: 'string', pattern: IDENTIFIER_PATTERN.source, minLength: 1, maxLength: 128 } }),
    ),
  );
}
