import { BadRequestException, Injectable, PipeTransform, ArgumentMetadata } from '@nestjs/common';
import { IDENTIFIER_PATTERN } from '@hookrunner/contracts';
import { IDENTIFIER_RULE } from './validators';

/** Path identifiers (botId, userId, sessionId, callId): 1–128 letters, digits, `-`, `_`, `.`, `:`. */
@Injectable()
export class IdentifierPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) {
      throw new BadRequestException([`${metadata.data} ${IDENTIFIER_RULE}`]);
    }
    return value;
  }
}
