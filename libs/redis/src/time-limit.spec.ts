import { TIMED_OUT, within } from './time-limit';

describe(within.name, () => {
  const sut = within;

  it('gives the value of a promise that settles in time', async () => {
    await expect(sut(Promise.resolve('done'), 1_000)).resolves.toBe('done');
  });

  it('gives TIMED_OUT when the time runs out first', async () => {
    await expect(sut(new Promise(() => undefined), 5)).resolves.toBe(TIMED_OUT);
  });

  it('passes a rejection on', async () => {
    await expect(sut(Promise.reject(new Error('refused')), 1_000)).rejects.toThrow('refused');
  });
});
