import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BULLMQ_STALLED_REASON, isStalledTooOften } from './stalled';

describe(isStalledTooOften.name, () => {
  it('matches the reason the installed BullMQ gives a job that stalled too often', () => {
    const script = readFileSync(join(require.resolve('bullmq'), '../commands/moveStalledJobsToWait-9.lua'), 'utf8');
    expect(script).toContain(`"${BULLMQ_STALLED_REASON}"`);
    expect(isStalledTooOften(new Error(BULLMQ_STALLED_REASON))).toBe(true);
  });

  it('does not match other failures', () => {
    expect(isStalledTooOften(new Error('connect ECONNREFUSED'))).toBe(false);
  });
});
