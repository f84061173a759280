import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import {
  IsIdentifier,
  IsStateObject,
  IsStringRecord,
  JSON_OBJECT_SCHEMA,
  STRING_RECORD_SCHEMA,
} from '../../common/validators';

/** Optional params of a call (or of a turn's call): added to, or overriding, the definition's. */
export function IsParamsOverlay() {
  return applyDecorators(
    ApiPropertyOptional({ ...STRING_RECORD_SCHEMA, description: "Added to, or overriding, the definition's params." }),
    IsOptional(),
    IsStringRecord(),
  );
}

/**
 * What one run of a webhook is given, whether enqueued or run by the test button: the session,
 * params over the definition's, and overlays for merge tags.
 */
@ApiSchema({ name: 'CallInput' })
export class CallInputDto {
  @IsIdentifier({ optional: true, description: 'Defaults to `default`.', example: 'default' })
  sessionId?: string;

  @IsParamsOverlay()
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
