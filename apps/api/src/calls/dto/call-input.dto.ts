import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import {
  IsIdentifier,
  IsStateObject,
  IsStringRecord,
  JSON_OBJECT_SCHEMA,
  STRING_RECORD_SCHEMA,
} from '../../common/validators';

/**
 * What one run of a webhook is given, whether enqueued or run by the test button: the session,
 * params over the definition's, and overlays for merge tags.
 */
@ApiSchema({ name: 'CallInput' })
export class CallInputDto {
  @IsIdentifier({ optional: true, description: 'Defaults to `default`.', example: 'default' })
  sessionId?: string;

  /** Added to, or overriding, the definition's params. */
  @ApiPropertyOptional({ ...STRING_RECORD_SCHEMA, description: "Added to, or overriding, the definition's params." })
  @IsOptional()
  @IsStringRecord()
  params?: Record<string, string>;

  /** Overlays the stored session memory when merge tags are rendered; not stored. */
  @ApiPropertyOptional({
    ...JSON_OBJECT_SCHEMA,
    description: 'Overlays the stored session memory for merge tags; not stored. At most 64 KiB.',
  })
  @IsOptional()
  @IsStateObject()
  memory?: Record<string, unknown>;

  /** Overlays the stored profile when merge tags are rendered; not stored. */
  @ApiPropertyOptional({
    ...JSON_OBJECT_SCHEMA,
    description: 'Overlays the stored profile for merge tags; not stored. At most 64 KiB.',
  })
  @IsOptional()
  @IsStateObject()
  user?: Record<string, unknown>;
}
