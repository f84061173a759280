import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signatureHeaders } from './signing';

const now = () => Math.floor(Date.now() / 1000);

describe(signatureHeaders.name, () => {
  const sut = signatureHeaders;

  it('signs a POST so the standardwebhooks package verifies it', () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ botId: 'bot-1', params: { q: 'héllo' } });

    const headers = sut([secret], 'call_01HZX', now(), body);

    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ botId: 'bot-1', params: { q: 'héllo' } });
  });

  it('signs a GET over the empty body', () => {
    const secret = generateSigningSecret();

    const headers = sut([secret], 'call_get', now(), '');

    expect(() => new Webhook(secret).verify('', { ...headers })).not.toThrow();
    expect(() => new Webhook(secret).verify('{}', { ...headers })).toThrow('No matching signature found');
  });

  it('sends the id and timestamp it signed', () => {
    const headers = sut([generateSigningSecret()], 'call_42', 1_700_000_000, '');

    expect(headers['webhook-id']).toBe('call_42');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('computes the spec\'s HMAC over "id.timestamp.body" with the decoded secret', () => {
    const key = Buffer.alloc(24, 7);
    const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');

    expect(sut([`whsec_${key.toString('base64')}`], 'msg_1', 1_700_000_000, '{"a":1}')['webhook-signature']).toBe(
      `v1,${expected}`,
    );
  });

  it('during a rotation signs with both secrets, so receivers holding either verify', () => {
    const oldSecret = generateSigningSecret();
    const newSecret = generateSigningSecret();
    const body = '{"rotating":true}';

    const headers = sut([newSecret, oldSecret], 'call_rot', now(), body);

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual({ rotating: true });
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual({ rotating: true });
    expect(() => new Webhook(generateSigningSecret()).verify(body, { ...headers })).toThrow(
      'No matching signature found',
    );
  });

  it('is not verified for another body, id or secret', () => {
    const secret = generateSigningSecret();
    const headers = sut([secret], 'call_1', now(), '{"a":1}');

    expect(() => new Webhook(secret).verify('{"a":2}', { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'call_2' })).toThrow();
  });

  it('refuses to sign without a secret, with a damaged secret or a fractional timestamp', () => {
    expect(() => sut([], 'id', now(), '')).toThrow('at least one secret');
    expect(() => sut(['whsec_'], 'id', now(), '')).toThrow('not whsec_ followed by base64');
    expect(() => sut(['whsec_not base64!'], 'id', now(), '')).toThrow('not whsec_ followed by base64');
    expect(() => sut([generateSigningSecret()], 'id', 1.5, '')).toThrow('whole Unix seconds');
  });
});

describe(generateSigningSecret.name, () => {
  const sut = generateSigningSecret;

  it('makes a whsec_ secret of 32 random bytes', () => {
    const secret = sut();

    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(sut()).not.toBe(secret);
  });
});
