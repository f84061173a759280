import type { LookupAddress } from 'node:dns';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Agent, request } from 'undici';
import { BLOCKED_ADDRESS_CODE } from '@hookrunner/webhook';
import { BlockedAddressError, type Resolver, createGuardedAgent, guardedLookup } from './guarded-agent';
import { parseCidrList } from './ssrf';

/** A resolver answering each call with the next of `answers` (the last one repeats), counting calls. */
function scriptedResolver(...answers: string[][]): Resolver & { calls: number } {
  const resolver = Object.assign(
    ((_hostname, _options, callback) => {
      const answer = answers[Math.min(resolver.calls, answers.length - 1)];
      resolver.calls += 1;
      const addresses: LookupAddress[] = answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      process.nextTick(callback, null, addresses);
    }) as Resolver,
    { calls: 0 },
  );
  return resolver;
}

function lookupAll(lookup: ReturnType<typeof guardedLookup>, hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    lookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as LookupAddress[]))),
  );
}

function lookupOne(lookup: ReturnType<typeof guardedLookup>, hostname: string): Promise<[string, number | undefined]> {
  return new Promise((resolve, reject) =>
    lookup(hostname, {}, (err, address, family) => (err ? reject(err) : resolve([address as string, family]))),
  );
}

describe(guardedLookup.name, () => {
  it('answers in the form asked for when every address is public', async () => {
    const sut = guardedLookup([], scriptedResolver(['93.184.216.34', '2606:2800:220:1::1']));

    await expect(lookupAll(sut, 'example.com')).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
    await expect(lookupOne(sut, 'example.com')).resolves.toEqual(['93.184.216.34', 4]);
  });

  it('fails a name that resolved to a public address before and to a private one now', async () => {
    const sut = guardedLookup([], scriptedResolver(['93.184.216.34'], ['10.0.0.7']));

    await expect(lookupOne(sut, 'rebind.example')).resolves.toEqual(['93.184.216.34', 4]);
    await expect(lookupOne(sut, 'rebind.example')).rejects.toMatchObject({
      code: BLOCKED_ADDRESS_CODE,
      host: 'rebind.example',
      address: '10.0.0.7',
      range: 'private',
    });
  });

  it('fails when any one of the answers is blocked, whatever its place', async () => {
    const sut = guardedLookup([], scriptedResolver(['93.184.216.34', '::ffff:169.254.169.254']));

    await expect(lookupOne(sut, 'mixed.example')).rejects.toBeInstanceOf(BlockedAddressError);
    await expect(lookupAll(sut, 'mixed.example')).rejects.toMatchObject({ code: BLOCKED_ADDRESS_CODE });
  });

  it('refuses an internal name without resolving it', async () => {
    const resolver = scriptedResolver(['93.184.216.34']);
    const sut = guardedLookup([], resolver);

    await expect(lookupOne(sut, 'metadata.google.internal.')).rejects.toMatchObject({
      code: BLOCKED_ADDRESS_CODE,
      host: 'metadata.google.internal',
    });
    expect(resolver.calls).toBe(0);
  });

  it('passes resolver errors on unchanged', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
    const sut = guardedLookup([], (_hostname, _options, callback) => process.nextTick(callback, notFound, []));

    await expect(lookupOne(sut, 'nowhere.example')).rejects.toBe(notFound);
  });

  it('lets allowed ranges through', async () => {
    const sut = guardedLookup(parseCidrList('10.0.0.0/8'), scriptedResolver(['10.0.0.7']));

    await expect(lookupOne(sut, 'internal-api.example')).resolves.toEqual(['10.0.0.7', 4]);
  });
});

describe(createGuardedAgent.name, () => {
  let server: Server;
  let port: number;
  let hits: number;
  let sut: Agent | undefined;

  beforeEach(async () => {
    hits = 0;
    server = createServer((_req, res) => {
      hits += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function get(url: string): Promise<string> {
    // reset: a fresh connection per request, so each one is dialled (and checked) anew.
    const res = await request(url, { dispatcher: sut, reset: true });
    return res.body.text();
  }

  it.each([
    ['a literal loopback address', (p: number) => `http://127.0.0.1:${p}/`],
    ['an integer spelling', (p: number) => `http://2130706433:${p}/`],
    ['a hex spelling', (p: number) => `http://0x7f000001:${p}/`],
    ['an IPv4-mapped address', (p: number) => `http://[::ffff:127.0.0.1]:${p}/`],
    ['IPv6 loopback', (p: number) => `http://[::1]:${p}/`],
    ['localhost', (p: number) => `http://localhost:${p}/`],
  ])('refuses %s before connecting', async (_case, url) => {
    sut = createGuardedAgent([]);

    await expect(get(url(port))).rejects.toMatchObject({ code: BLOCKED_ADDRESS_CODE });
    expect(hits).toBe(0);
  });

  it('connects to a range OUTBOUND_ALLOW_CIDRS opens', async () => {
    sut = createGuardedAgent(parseCidrList('127.0.0.1/32'), { connect: { timeout: 5_000 } });

    await expect(get(`http://127.0.0.1:${port}/`)).resolves.toBe('ok');
    await expect(get(`http://2130706433:${port}/`)).resolves.toBe('ok');
    expect(hits).toBe(2);
  });

  it('checks the address actually dialled on every connect, so a rebinding name is caught', async () => {
    // 127.0.0.1 is opened by the allow list and stands in for the public first answer.
    const resolver = scriptedResolver(['127.0.0.1'], ['169.254.169.254']);
    sut = createGuardedAgent(parseCidrList('127.0.0.1/32'), {}, resolver);

    await expect(get(`http://rebind.example:${port}/`)).resolves.toBe('ok');
    await expect(get(`http://rebind.example:${port}/`)).rejects.toMatchObject({
      code: BLOCKED_ADDRESS_CODE,
      address: '169.254.169.254',
      range: 'linkLocal',
    });
    expect(resolver.calls).toBe(2);
    expect(hits).toBe(1);
  });

  it('guards https connections the same way, before any TLS handshake', async () => {
    sut = createGuardedAgent([], {}, scriptedResolver(['10.1.2.3']));

    await expect(get('https://internal.example/')).rejects.toMatchObject({
      code: BLOCKED_ADDRESS_CODE,
      address: '10.1.2.3',
    });
    await expect(get(`https://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: BLOCKED_ADDRESS_CODE });
  });
});
