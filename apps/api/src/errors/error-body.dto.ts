import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

/** Every error the API answers: the status, a code, and a message that names the field and the rule. */
@ApiSchema({ name: 'ErrorBody' })
export class ErrorBodyDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiPropertyOptional({
    description:
      'A code: webhook_not_found, webhook_exists, too_many_webhooks, call_not_found, invalid_input, ' +
      'queue_full, rate_limited, blocked_url, not_retryable, call_expired, redis_unavailable, internal_error, ' +
      'or the HTTP reason (Bad Request, Unauthorized, ...) for validation and authentication errors.',
    example: 'Bad Request',
  })
  error?: string;

  @ApiProperty({
    description: 'What is wrong. For body validation, a list with one entry per broken rule.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['waitMs must not be greater than 30000'],
  })
  message: string | string[];
}
