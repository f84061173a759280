import fc from 'fast-check';
import { errors } from 'undici';
import { CallErrorType } from '@hookrunner/contracts';
import { classifyError, classifyResponse, parseRetryAfter } from './classify-outcome';
import { ReplyTooLargeError } from './validate-reply';

const now = Date.parse('2025-01-01T00:00:00Z');
const validBody = '{"responses":["hi"]}';

describe(classifyResponse.name, () => {
  const sut = classifyResponse;

  it.each([200, 201, 204, 299])('succeeds on %i with a valid body', (status) => {
    expect(sut(status, {}, validBody, now)).toEqual({
      kind: 'success',
      reply: { responses: ['hi'], quickreplies: [], memory: {}, user_attributes: {} },
    });
  });

  it('fails a 2xx with an invalid body, joining every error', () => {
    expect(sut(200, {}, '{"responses":[1],"memory":[]}', now)).toEqual({
      kind: 'fail',
      error: {
        type: CallErrorType.InvalidResponse,
        message: 'responses[0] must be a string; memory must be an object',
      },
    });
    expect(sut(204, {}, '', now)).toMatchObject({
      kind: 'fail',
      error: { type: CallErrorType.InvalidResponse, message: expect.stringMatching(/^body is not valid JSON: /) },
    });
  });

  it('fails a redirect and names where it pointed', () => {
    expect(sut(301, { location: 'https://elsewhere.test/hook' }, '', now)).toEqual({
      kind: 'fail',
      error: {
        type: CallErrorType.HttpStatus,
        message: 'redirect not followed (301 to https://elsewhere.test/hook)',
        httpStatus: 301,
      },
    });
    expect(sut(307, { Location: ['https://a.test/', 'https://b.test/'] }, '', now).kind).toBe('fail');
    expect(sut(307, { Location: ['https://a.test/'] }, '', now)).toMatchObject({
      error: { message: 'redirect not followed (307 to https://a.test/)' },
    });
    expect(sut(304, {}, '', now)).toMatchObject({ error: { message: 'redirect not followed (304)', httpStatus: 304 } });
  });

  it.each([429, 500, 502, 503, 599])('retries %i', (status) => {
    expect(sut(status, {}, validBody, now)).toEqual({
      kind: 'retry',
      error: { type: CallErrorType.HttpStatus, message: `endpoint answered HTTP ${status}`, httpStatus: status },
    });
  });

  it.each([100, 400, 401, 403, 404, 410, 422, 600, 0])('fails %i', (status) => {
    expect(sut(status, { 'retry-after': '5' }, validBody, now)).toEqual({
      kind: 'fail',
      error: { type: CallErrorType.HttpStatus, message: `endpoint answered HTTP ${status}`, httpStatus: status },
    });
  });

  it('reads Retry-After in seconds', () => {
    expect(sut(503, { 'retry-after': '120' }, '', now)).toMatchObject({ kind: 'retry', retryAfterMs: 120_000 });
    expect(sut(429, { 'Retry-After': ['0'] }, '', now)).toMatchObject({ kind: 'retry', retryAfterMs: 0 });
  });

  it('reads Retry-After as an HTTP-date relative to now', () => {
    expect(sut(503, { 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, '', now)).toMatchObject({
      retryAfterMs: 30_000,
    });
  });

  it('leaves retryAfterMs out when Retry-After is absent or invalid', () => {
    expect(sut(503, {}, '', now)).not.toHaveProperty('retryAfterMs');
    expect(sut(503, { 'retry-after': 'soon' }, '', now)).not.toHaveProperty('retryAfterMs');
    expect(sut(503, { 'retry-after': undefined }, '', now)).not.toHaveProperty('retryAfterMs');
  });
});

describe(parseRetryAfter.name, () => {
  const sut = parseRetryAfter;

  it.each([
    ['0', 0],
    ['7', 7000],
    ['2025', 2_025_000],
    [' 3 ', 3000],
    ['Wed, 01 Jan 2025 00:01:00 GMT', 60_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
  ])('parses %j as %j ms', (value, ms) => {
    expect(sut(value, now)).toBe(ms);
  });

  it.each([undefined, '', '-5', '1.5', '5s', 'not a date', '2025-01-01'])('rejects %j', (value) => {
    expect(sut(value, now)).toBeUndefined();
  });

  it('never throws and never goes negative', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 4e12 }), (value, at) => {
        const ms = sut(value, at);
        if (ms !== undefined) expect(ms).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe(classifyError.name, () => {
  const sut = classifyError;
  const withCode = (code: string, message = `connect ${code} https://api.test/?token=secret`) =>
    Object.assign(new Error(message), { code });
  const named = (name: string) => Object.assign(new Error('The operation was aborted due to timeout'), { name });

  it('fails a body over the limit as an invalid response', () => {
    expect(sut(new ReplyTooLargeError())).toEqual({
      kind: 'fail',
      error: { type: CallErrorType.InvalidResponse, message: 'body exceeds 1048576 bytes' },
    });
  });

  it.each(['TimeoutError', 'AbortError'])('retries a %s as a timeout', (name) => {
    expect(sut(named(name))).toEqual({
      kind: 'retry',
      error: { type: CallErrorType.Timeout, message: `request timed out (${name})` },
    });
  });

  it('retries an AbortSignal.timeout reason as a timeout', () => {
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(sut(reason)).toMatchObject({ kind: 'retry', error: { type: CallErrorType.Timeout } });
  });

  it.each(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])(
    'retries %s as a timeout',
    (code) => {
      expect(sut(withCode(code))).toEqual({
        kind: 'retry',
        error: { type: CallErrorType.Timeout, message: `request timed out (${code})` },
      });
    },
  );

  it.each([
    ['ECONNREFUSED', 'connection refused by the endpoint'],
    ['ECONNRESET', 'connection reset by the endpoint'],
    ['UND_ERR_SOCKET', 'connection closed before the response was complete'],
    ['ENOTFOUND', 'host name not found'],
    ['EAI_AGAIN', 'host name lookup failed for now'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['EPIPE', 'connection closed by the endpoint while sending'],
    ['ESOMETHINGELSE', 'network error'],
    ['UND_ERR_INFO', 'network error'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'network error'],
    ['HPE_INVALID_CONSTANT', 'network error'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'network error'],
    ['CERT_HAS_EXPIRED', 'network error'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'network error'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'network error'],
  ])('retries %s as a network error: %s', (code, reason) => {
    expect(sut(withCode(code))).toEqual({
      kind: 'retry',
      error: { type: CallErrorType.Network, message: `${reason} (${code})` },
    });
  });

  it.each(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM'])(
    'retries %s, the worker short of its own resources, as internal: not the endpoint’s fault',
    (code) => {
      expect(sut(withCode(code))).toEqual({
        kind: 'retry',
        error: { type: CallErrorType.Internal, message: `worker out of local resources (${code})` },
      });
    },
  );

  it("retries undici's own socket and parser errors as network errors", () => {
    expect(sut(new errors.SocketError('other side closed'))).toEqual({
      kind: 'retry',
      error: {
        type: CallErrorType.Network,
        message: 'connection closed before the response was complete (UND_ERR_SOCKET)',
      },
    });
    expect(sut(new errors.ResponseContentLengthMismatchError())).toMatchObject({
      kind: 'retry',
      error: { type: CallErrorType.Network },
    });
    // A reply that is not HTTP: undici 7 leaves the parser error's code undefined.
    const notHttp = new errors.HTTPParserError('Response does not match the HTTP/1.1 protocol');
    expect(sut(notHttp)).toEqual({
      kind: 'retry',
      error: { type: CallErrorType.Network, message: 'network error (HTTPParserError)' },
    });
  });

  it("retries undici's timeouts as timeouts", () => {
    expect(sut(new errors.ConnectTimeoutError())).toMatchObject({
      kind: 'retry',
      error: { type: CallErrorType.Timeout },
    });
    expect(sut(new errors.HeadersTimeoutError())).toMatchObject({
      kind: 'retry',
      error: { type: CallErrorType.Timeout },
    });
    expect(sut(new errors.BodyTimeoutError())).toMatchObject({ kind: 'retry', error: { type: CallErrorType.Timeout } });
  });

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')"), 'TypeError'],
    ['a RangeError', new RangeError('Invalid array length'), 'RangeError'],
    ['a closed agent', new errors.ClientClosedError(), 'UND_ERR_CLOSED'],
    ['a destroyed agent', new errors.ClientDestroyedError(), 'UND_ERR_DESTROYED'],
    [
      'a handler bug',
      new errors.InvalidReturnValueError('onData must return a boolean'),
      'UND_ERR_INVALID_RETURN_VALUE',
    ],
    ['a Node argument error', withCode('ERR_INVALID_ARG_TYPE'), 'ERR_INVALID_ARG_TYPE'],
    ['an unknown code', withCode('SOMETHING_ODD'), 'SOMETHING_ODD'],
  ])("fails %s as internal: Hookrunner's own fault, not the endpoint's", (_, err, shown) => {
    expect(sut(err)).toEqual({
      kind: 'fail',
      error: { type: CallErrorType.Internal, message: `internal error while sending the request (${shown})` },
    });
  });

  it.each(['UND_ERR_HEADERS_OVERFLOW', 'HPE_HEADER_OVERFLOW'])(
    'fails %s at once: the endpoint would flood its headers again',
    (code) => {
      expect(sut(withCode(code))).toEqual({
        kind: 'fail',
        error: { type: CallErrorType.InvalidResponse, message: `response headers exceed the size limit (${code})` },
      });
    },
  );

  it.each([
    ['UND_ERR_INVALID_ARG', new errors.InvalidArgumentError('invalid x header')],
    ['UND_ERR_NOT_SUPPORTED', new errors.NotSupportedError('expect header not supported')],
    ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', new errors.RequestContentLengthMismatchError()],
    ['ERR_INVALID_URL', withCode('ERR_INVALID_URL')],
  ])('fails a request undici refuses to send (%s) as internal, without retry', (code, err) => {
    expect(sut(err)).toEqual({
      kind: 'fail',
      error: { type: CallErrorType.Internal, message: `request could not be sent (${code})` },
    });
  });

  it('fails a blocked address without retry', () => {
    const blocked = Object.assign(new Error('blocked outbound connection to 10.0.0.1 (private)'), {
      code: 'EBLOCKED_ADDRESS',
    });
    expect(sut(blocked)).toEqual({
      kind: 'fail',
      error: { type: CallErrorType.BlockedUrl, message: 'blocked outbound connection to 10.0.0.1 (private)' },
    });
  });

  it('finds the code on a cause or inside an AggregateError', () => {
    expect(sut(new Error('wrapped', { cause: withCode('ECONNRESET') }))).toMatchObject({
      error: { message: 'connection reset by the endpoint (ECONNRESET)' },
    });
    expect(sut(new AggregateError([withCode('ECONNREFUSED'), withCode('EHOSTUNREACH')]))).toMatchObject({
      error: { message: 'connection refused by the endpoint (ECONNREFUSED)' },
    });
  });

  it('falls back to the name, then to unknown', () => {
    expect(sut(new TypeError('bad'))).toMatchObject({
      kind: 'fail',
      error: { message: 'internal error while sending the request (TypeError)' },
    });
    expect(sut('a string')).toMatchObject({
      kind: 'fail',
      error: { message: 'internal error while sending the request (unknown)' },
    });
    expect(sut(null)).toMatchObject({
      kind: 'fail',
      error: { message: 'internal error while sending the request (unknown)' },
    });
  });

  it('never carries the error message or an unsafe code', () => {
    const outcome = sut(withCode('E BAD https://api.test/?token=secret'));
    expect(outcome).toMatchObject({ error: { message: 'internal error while sending the request (Error)' } });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (secret) => {
        const err = Object.assign(new Error(secret), { code: `${secret} x` });
        const result = sut(err);
        expect(result.kind === 'success' ? '' : result.error.message).toMatch(
          /^internal error while sending the request \([A-Za-z0-9_]+\)$/,
        );
      }),
    );
  });
});
