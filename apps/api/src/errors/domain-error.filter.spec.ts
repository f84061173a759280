import { ErrorCode } from '@hookrunner/contracts';
import { httpStatusOf } from './domain-error.filter';

describe('httpStatusOf', () => {
  it('answers every domain error with a client error, the same for a call alone and a batch entry', () => {
    const serverSide = [ErrorCode.RedisUnavailable, ErrorCode.InternalError];
    for (const code of Object.values(ErrorCode).filter((c) => !serverSide.includes(c))) {
      const status = httpStatusOf(code);
      expect([code, status >= 400 && status < 500]).toEqual([code, true]);
    }
    expect(httpStatusOf(ErrorCode.WebhookNotFound)).toBe(404);
    expect(httpStatusOf(ErrorCode.RateLimited)).toBe(429);
    expect(httpStatusOf(ErrorCode.InvalidInput)).toBe(400);
    // Only a batch entry Redis failed under answers this: the rest of its batch was enqueued.
    expect(httpStatusOf(ErrorCode.RedisUnavailable)).toBe(503);
    expect(httpStatusOf(ErrorCode.InternalError)).toBe(500);
  });
});
