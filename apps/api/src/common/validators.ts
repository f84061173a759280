import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsOptional,
  IsString,
  Matches,
  registerDecorator,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';
import { IDENTIFIER_PATTERN } from '@hookrunner/contracts';
import { FORBIDDEN_KEYS, isPlainObject } from '@hookrunner/webhook';

/** What IDENTIFIER_PATTERN allows, in the words of every message that refuses an identifier. */
export const IDENTIFIER_RULE = 'must be 1-128 characters of letters, digits, -, _, ., :';

/** An identifier field of a body (userId, sessionId): IDENTIFIER_PATTERN, with its schema. */
export function IsIdentifier(options: { optional?: boolean; description: string; example: string }) {
  const schema = { description: options.description, example: options.example, pattern: IDENTIFIER_PATTERN.source };
  return applyDecorators(
    ...(options.optional ? [IsOptional(), ApiPropertyOptional(schema)] : [ApiProperty(schema)]),
    IsString(),
    Matches(IDENTIFIER_PATTERN, { message: ({ property }) => `${property} ${IDENTIFIER_RULE}` }),
  );
}

/** The schema of a string record (params, headers). */
export const STRING_RECORD_SCHEMA = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** The schema of a JSON object (memory, user attributes). */
export const JSON_OBJECT_SCHEMA = { type: 'object', additionalProperties: true } as const;

export const RECORD_LIMITS = {
  /** Entries in params or headers of one definition or call. */
  maxEntries: 100,
  maxKeyLength: 256,
  maxValueLength: 8192,
  /** Serialized size of memory or user given at enqueue. */
  maxJsonBytes: 64 * 1024,
};

function badKey(value: Record<string, unknown>): string | undefined {
  return Object.keys(value).find(
    (k) => FORBIDDEN_KEYS.has(k) || k.length === 0 || k.length > RECORD_LIMITS.maxKeyLength,
  );
}

/** An HTTP header name (RFC 9110 token) and a value without CR, LF or NUL. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

/** `{ [name: string]: string }` with bounded size, no empty or prototype-polluting keys. */
export function IsStringRecord(options?: ValidationOptions & { headers?: boolean }): PropertyDecorator {
  return (object: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isStringRecord',
      target: object.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown) {
          if (!isPlainObject(value) || badKey(value) !== undefined) return false;
          const entries = Object.entries(value);
          if (
            options?.headers &&
            !entries.every(([k, v]) => HEADER_NAME.test(k) && typeof v === 'string' && HEADER_VALUE.test(v))
          )
            return false;
          return (
            entries.length <= RECORD_LIMITS.maxEntries &&
            entries.every(([, v]) => typeof v === 'string' && v.length <= RECORD_LIMITS.maxValueLength)
          );
        },
        defaultMessage(args: ValidationArguments) {
          const value: unknown = args.value;
          if (!isPlainObject(value)) return `${args.property} must be an object of string values`;
          const key = badKey(value);
          if (key !== undefined)
            return `${args.property} has a key that is not allowed: ${JSON.stringify(key.slice(0, 40))}`;
          if (Object.keys(value).length > RECORD_LIMITS.maxEntries)
            return `${args.property} must have at most ${RECORD_LIMITS.maxEntries} entries`;
          if (options?.headers) {
            const bad = Object.entries(value).find(
              ([k, v]) => !HEADER_NAME.test(k) || typeof v !== 'string' || !HEADER_VALUE.test(v),
            );
            if (bad && !HEADER_NAME.test(bad[0]))
              return `${args.property} names must be HTTP header names: ${JSON.stringify(bad[0].slice(0, 40))} is not`;
            if (bad && typeof bad[1] === 'string') return `${args.property}.${bad[0]} must not contain CR, LF or NUL`;
          }
          return `${args.property} values must be strings of at most ${RECORD_LIMITS.maxValueLength} characters`;
        },
      },
    });
}

/** A JSON object (memory or user overlay) of bounded size, no prototype-polluting keys. */
export function IsStateObject(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isStateObject',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown) {
          return (
            isPlainObject(value) &&
            badKey(value) === undefined &&
            Buffer.byteLength(JSON.stringify(value)) <= RECORD_LIMITS.maxJsonBytes
          );
        },
        defaultMessage(args: ValidationArguments) {
          const value: unknown = args.value;
          if (!isPlainObject(value)) return `${args.property} must be an object`;
          const key = badKey(value);
          if (key !== undefined)
            return `${args.property} has a key that is not allowed: ${JSON.stringify(key.slice(0, 40))}`;
          return `${args.property} must serialize to at most ${RECORD_LIMITS.maxJsonBytes} bytes of JSON`;
        },
      },
    });
}

/** Merge tags may stand in any part of a webhook URL; they are swapped for a placeholder to parse it. */
const MERGE_TAG = /\{\{[^}]*\}\}/g;

/**
 * An absolute http(s) URL as WHATWG URL (what undici dials) reads it, so integer or hex IPv4
 * spellings parse here and meet the outbound policy's address check, instead of failing as
 * malformed. Merge tags may appear anywhere.
 */
export function IsWebhookUrl(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isWebhookUrl',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be an absolute http(s) URL`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string' || value.length > 2048) return false;
          try {
            const url = new URL(value.replace(MERGE_TAG, 'tag'));
            return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
      },
    });
}
