import { blockedRange, checkUrlAtSave, isBlockedHostname, normalizeHost, parseCidrList } from './ssrf';

describe(`${blockedRange.name} as a verdict`, () => {
  const sut = (ip: string, allow: Parameters<typeof blockedRange>[1] = []) => blockedRange(ip, allow) !== undefined;

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.1', 'reserved'],
    ['203.0.113.1', 'reserved'],
    ['192.0.0.1', 'reserved'],
  ])('blocks IPv4 %s (%s)', (ip, range) => {
    expect(sut(ip, [])).toBe(true);
    expect(blockedRange(ip)).toBe(range);
  });

  it.each([
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0X7F000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['017700000001', 'loopback'],
    ['127.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['127.0.0.1.', 'loopback'],
    ['0', 'unspecified'],
    ['3232235777', 'private'],
    ['0xa9fea9fe', 'linkLocal'],
    ['0251.0376.0251.0376', 'linkLocal'],
  ])('blocks the IPv4 spelling %s (%s)', (ip, range) => {
    expect(sut(ip, [])).toBe(true);
    expect(blockedRange(ip)).toBe(range);
  });

  it.each([
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456:789a::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['100::1', 'discard'],
    ['2001::1', 'teredo'],
    ['::7f00:1', 'reserved'],
    ['64:ff9b:1::a00:1', 'rfc6052'],
  ])('blocks IPv6 %s (%s)', (ip, range) => {
    expect(sut(ip, [])).toBe(true);
    expect(blockedRange(ip)).toBe(range);
  });

  it.each([
    ['::ffff:127.0.0.1', 'ipv4Mapped loopback'],
    ['::ffff:7f00:1', 'ipv4Mapped loopback'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'ipv4Mapped private'],
    ['::ffff:10.0.0.1', 'ipv4Mapped private'],
    ['::ffff:169.254.169.254', 'ipv4Mapped linkLocal'],
    ['::ffff:100.64.0.1', 'ipv4Mapped carrierGradeNat'],
    ['::ffff:0:127.0.0.1', 'rfc6145 loopback'],
    ['::127.0.0.1', 'ipv4Mapped loopback'], // ipaddr.js reads the IPv4-compatible dotted form as mapped
    ['64:ff9b::127.0.0.1', 'rfc6052 loopback'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052 linkLocal'],
    ['64:ff9b::10.0.0.1', 'rfc6052 private'],
    ['2002:7f00:1::', '6to4 loopback'],
    ['2002:a9fe:a9fe::1', '6to4 linkLocal'],
    ['2002:0a00:0001:1::1', '6to4 private'],
    ['2002:c000:0201::', '6to4 reserved'],
  ])('blocks %s, an IPv6 form of a blocked IPv4 address (%s)', (ip, range) => {
    expect(sut(ip, [])).toBe(true);
    expect(blockedRange(ip)).toBe(range);
  });

  it.each(['example.com', '', '1.2.3.4.5', '::g', '4294967296'])('blocks %p, which is no IP address', (ip) => {
    expect(sut(ip, [])).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '134744072',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
  ])('lets public unicast %s through', (ip) => {
    expect(sut(ip, [])).toBe(false);
    expect(blockedRange(ip)).toBeUndefined();
  });

  it('exempts the allowed ranges, and only those', () => {
    const allow = parseCidrList('127.0.0.1/32, 10.0.0.0/8,fd00::/8, 192.168.1.5');

    expect(sut('127.0.0.1', allow)).toBe(false);
    expect(sut('2130706433', allow)).toBe(false);
    expect(sut('10.200.3.4', allow)).toBe(false);
    expect(sut('::ffff:10.200.3.4', allow)).toBe(false);
    expect(sut('fd00::1', allow)).toBe(false);
    expect(sut('192.168.1.5', allow)).toBe(false);

    expect(sut('127.0.0.2', allow)).toBe(true);
    expect(sut('::1', allow)).toBe(true);
    expect(sut('fc00::1', allow)).toBe(true);
    expect(sut('192.168.1.6', allow)).toBe(true);
    expect(sut('169.254.169.254', allow)).toBe(true);
  });
});

describe(parseCidrList.name, () => {
  const sut = parseCidrList;

  it('reads addresses and ranges, skipping empty entries', () => {
    expect(sut(' 127.0.0.1/32 ,, 10.0.0.0/8,::1, fd00::/8,').map((cidr) => cidr.text)).toEqual([
      '127.0.0.1/32',
      '10.0.0.0/8',
      '::1/128',
      'fd00::/8',
    ]);
    expect(sut('')).toEqual([]);
  });

  it.each(['localhost', '10.0.0.0/33', '10.1/8', '300.0.0.1', 'fd00::/129', '10.0.0.0/'])(
    'rejects %p, naming it and the setting',
    (entry) => {
      expect(() => sut(`127.0.0.1/32,${entry}`)).toThrow(
        `OUTBOUND_ALLOW_CIDRS: "${entry}" is not an IP address or CIDR range`,
      );
    },
  );

  it('names another setting when told to', () => {
    expect(() => sut('nope', 'TEST_CIDRS')).toThrow('TEST_CIDRS: "nope"');
  });
});

describe(normalizeHost.name, () => {
  const sut = normalizeHost;

  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[0:0:0:0:0:ffff:7f00:1]', '::ffff:7f00:1'],
    ['Example.COM.', 'example.com'],
    [' api.example.com ', 'api.example.com'],
  ])('writes %p as %p', (host, expected) => {
    expect(sut(host)).toBe(expected);
  });

  it('agrees with the URL parser, which already rewrites IPv4 spellings but keeps a trailing dot', () => {
    for (const host of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1']) {
      expect(new URL(`http://${host}/`).hostname).toBe('127.0.0.1');
    }
    expect(new URL('http://localhost./').hostname).toBe('localhost.');
    expect(sut(new URL('http://localhost./').hostname)).toBe('localhost');
  });
});

describe(isBlockedHostname.name, () => {
  const sut = isBlockedHostname;

  it.each([
    'localhost',
    'LOCALHOST.',
    'app.localhost',
    'metadata',
    'metadata.google.internal',
    'metadata.google.internal.',
    'metadata.goog',
    'instance-data',
    'instance-data.ec2.internal',
    'anything.internal',
  ])('blocks %p', (name) => {
    expect(sut(name)).toBe(true);
  });

  it.each([
    'example.com',
    'localhost.example.com',
    'internal.example.com',
    'metadata.example.com',
    'hooks.example.internalx',
  ])('lets %p through', (name) => {
    expect(sut(name)).toBe(false);
  });
});

describe(checkUrlAtSave.name, () => {
  const sut = checkUrlAtSave;

  it.each([
    ['http://127.0.0.1:3000/hook', 'url host 127.0.0.1 is a blocked address (loopback)'],
    ['http://2130706433/', 'url host 127.0.0.1 is a blocked address (loopback)'],
    ['http://0x7f000001/', 'url host 127.0.0.1 is a blocked address (loopback)'],
    ['http://0177.0.0.1/', 'url host 127.0.0.1 is a blocked address (loopback)'],
    ['http://127.1/', 'url host 127.0.0.1 is a blocked address (loopback)'],
    ['http://169.254.169.254/latest/meta-data/', 'url host 169.254.169.254 is a blocked address (linkLocal)'],
    ['http://[::1]:8080/', 'url host ::1 is a blocked address (loopback)'],
    ['http://[::ffff:169.254.169.254]/', 'url host ::ffff:a9fe:a9fe is a blocked address (ipv4Mapped linkLocal)'],
    ['http://[64:ff9b::10.0.0.1]/', 'url host 64:ff9b::a00:1 is a blocked address (rfc6052 private)'],
    ['http://[2002:7f00:1::]/', 'url host 2002:7f00:1:: is a blocked address (6to4 loopback)'],
    ['https://[fd00::1]/', 'url host fd00::1 is a blocked address (uniqueLocal)'],
    [
      'http://metadata.google.internal/computeMetadata/v1/',
      'url host metadata.google.internal is an internal name and may not be called',
    ],
    ['http://localhost:3000/', 'url host localhost is an internal name and may not be called'],
    ['ftp://example.com/file', 'url must use http or https, not ftp'],
    ['file:///etc/passwd', 'url must use http or https, not file'],
    ['gopher://example.com/', 'url must use http or https, not gopher'],
    ['example.com/hook', 'url is not a valid absolute URL'],
  ])('refuses %s', (url, message) => {
    expect(sut(url, [])).toBe(message);
  });

  it.each([
    'https://example.com/hook',
    'http://8.8.8.8/hook',
    'https://hooks.example.com/{{user.id}}?q={{memory.topic}}',
    'https://{{memory.host}}/hook',
    'http://intranet/hook', // a name: what it resolves to is checked on connect
  ])('accepts %s', (url) => {
    expect(sut(url, [])).toBeUndefined();
  });

  it('accepts an allowed literal address', () => {
    const allow = parseCidrList('127.0.0.1/32');

    expect(sut('http://127.0.0.1:3001/hook', allow)).toBeUndefined();
    expect(sut('http://127.0.0.2:3001/hook', allow)).toBe('url host 127.0.0.2 is a blocked address (loopback)');
    expect(sut('http://localhost:3001/hook', allow)).toBe(
      'url host localhost is an internal name and may not be called',
    );
  });
});
