import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { HttpMethod, WebhookDefinition } from '@hookrunner/contracts';
import { JSON_OBJECT_SCHEMA, STRING_RECORD_SCHEMA } from '../../common/validators';
import { RetryDto } from './webhook.dto';
import type { WebhookTestReport } from '../webhook-test.service';

/** The endpoint's circuit breaker, as the workers see it. */
@ApiSchema({ name: 'WebhookHealth' })
export class WebhookHealthDto {
  @ApiProperty({ enum: ['closed', 'open', 'half_open'] })
  circuit: 'closed' | 'open' | 'half_open';

  @ApiProperty({ description: 'Share of recent attempts that failed, 0–1.', minimum: 0, maximum: 1 })
  failureRatio: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the circuit last opened.' })
  openedAt?: string;
}

/** A stored definition; header values are shown as `***`. */
@ApiSchema({ name: 'WebhookDefinition' })
export class WebhookDefinitionDto implements WebhookDefinition {
  @ApiProperty({ example: 'random_number' })
  name: string;

  @ApiProperty({ enum: ['GET', 'POST'] })
  method: HttpMethod;

  @ApiProperty({ example: 'https://example.com/random_number' })
  url: string;

  @ApiProperty(STRING_RECORD_SCHEMA)
  params: Record<string, string>;

  @ApiProperty({ ...STRING_RECORD_SCHEMA, description: 'Names only: every value is shown as ***.' })
  headers: Record<string, string>;

  @ApiProperty({ type: 'integer' })
  timeoutMs: number;

  @ApiProperty({ type: RetryDto })
  retry: { attempts: number; backoffMs: number };

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiPropertyOptional({
    type: WebhookHealthDto,
    description: 'Present on GET when the circuit breaker tracks the endpoint.',
  })
  health?: WebhookHealthDto;
}

@ApiSchema({ name: 'WebhookList' })
export class WebhookListDto {
  @ApiProperty({ type: [WebhookDefinitionDto] })
  webhooks: WebhookDefinitionDto[];
}

@ApiSchema({ name: 'TestRequest' })
export class TestRequestDto {
  @ApiProperty()
  method: string;

  @ApiProperty()
  url: string;

  @ApiProperty({ ...STRING_RECORD_SCHEMA, description: 'Credentials shown as ***.' })
  headers: Record<string, string>;

  @ApiProperty({ type: 'string', nullable: true })
  body: string | null;
}

@ApiSchema({ name: 'TestResponse' })
export class TestResponseDto {
  @ApiProperty({ type: 'integer' })
  status: number;

  @ApiProperty(JSON_OBJECT_SCHEMA)
  headers: Record<string, string | string[] | undefined>;

  @ApiProperty()
  body: string;

  @ApiProperty({ type: 'integer' })
  durationMs: number;
}

/** 200 of POST /v1/bots/{botId}/webhooks/{name}/test. */
@ApiSchema({ name: 'WebhookTestReport' })
export class WebhookTestReportDto implements WebhookTestReport {
  @ApiProperty({ type: TestRequestDto })
  request: TestRequestDto;

  @ApiProperty({ type: TestResponseDto, nullable: true, description: 'null when the endpoint never answered.' })
  response: TestResponseDto | null;

  @ApiProperty({ description: 'Whether the call would have succeeded.' })
  valid: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Why not, when not valid.' })
  errors?: string[];
}
