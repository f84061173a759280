import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ErrorCode } from '@hookrunner/contracts';

/** Every error the API answers: the status, a code, and a message that names the field and the rule. */
@ApiSchema({ name: 'ErrorBody' })
export class ErrorBodyDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiPropertyOptional({
    description:
      `A code: ${Object.values(ErrorCode).join(', ')}, ` +
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
