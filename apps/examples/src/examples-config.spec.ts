import { readExamplesConfig } from './examples-config';

describe(readExamplesConfig.name, () => {
  const sut = readExamplesConfig;

  it('defaults to 127.0.0.1:4000', () => {
    expect(sut({})).toEqual({ host: '127.0.0.1', port: 4000 });
  });

  it('reads EXAMPLES_HOST and EXAMPLES_PORT', () => {
    expect(sut({ EXAMPLES_HOST: '0.0.0.0', EXAMPLES_PORT: '8080' })).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it.each(['0', '65536', '80.5', 'http', '', ' 80', '-1'])('refuses EXAMPLES_PORT=%j, naming the variable', (port) => {
    expect(() => sut({ EXAMPLES_PORT: port })).toThrow(/EXAMPLES_PORT/);
  });
});
