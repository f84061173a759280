import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@hookrunner/contracts';
import { isRedisUnavailable } from '@hookrunner/redis';
import { DomainError } from './domain-error';

/** How long a client should wait before retrying while Redis is unreachable. */
const REDIS_RETRY_AFTER_SECONDS = 1;

/**
 * The API's only translation of errors into HTTP. Domain errors get their status; Nest's own
 * HttpExceptions (validation, 404 route) pass through; Redis being unreachable is a 503 with
 * Retry-After; anything else is a bug: logged, and a 500 without details.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(DomainErrorFilter.name);

  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (err instanceof DomainError) {
      const status = httpStatusOf(err.code);
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      reply.status(status).send({ statusCode: status, error: err.code, message: err.message });
      return;
    }
    if (err instanceof HttpException) {
      const body = err.getResponse();
      reply
        .status(err.getStatus())
        .send(typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : body);
      return;
    }
    if (isRedisUnavailable(err)) {
      reply.status(HttpStatus.SERVICE_UNAVAILABLE).header('retry-after', String(REDIS_RETRY_AFTER_SECONDS)).send({
        statusCode: 503,
        error: ErrorCode.RedisUnavailable,
        message: 'Redis is unreachable; nothing was changed. Retry shortly.',
      });
      return;
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own client errors (body too large, malformed JSON, wrong content type).
      reply.status(status).send({ statusCode: status, error: (err as Error).name, message: (err as Error).message });
      return;
    }
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    this.logger.error({ err, req: { id: request.id, method: request.method, url: request.url } }, 'unhandled error');
    reply.status(500).send({ statusCode: 500, error: ErrorCode.InternalError, message: 'Internal error' });
  }
}

/** The HTTP status of each domain error: the one mapping, used here and for batch entries. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.WebhookNotFound:
    case ErrorCode.CallNotFound:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.WebhookExists:
      return HttpStatus.CONFLICT;
    case ErrorCode.TooManyWebhooks:
    case ErrorCode.InvalidInput:
    case ErrorCode.BlockedUrl:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.QueueFull:
    case ErrorCode.RateLimited:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ErrorCode.NotRetryable:
      return HttpStatus.CONFLICT;
    case ErrorCode.CallExpired:
      return HttpStatus.GONE;
    case ErrorCode.RedisUnavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ErrorCode.InternalError:
      return HttpStatus.INTERNAL_SERVER_ERROR;
  }
}
