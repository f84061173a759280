import { RESULTS_GROUP, type CallResultJob } from '@hookrunner/contracts';
import type { RedisClient } from './connections';
import { keys } from './keys';

/** One finished call read from a partition's results stream. */
export interface StreamedResult {
  /** The entry's stream id: what is acknowledged once the result is merged and published. */
  id: string;
  result: CallResultJob;
}

/** How many results of a partition wait for a consumer and how many one is working on. */
export interface ResultsDepth {
  waiting: number;
  active: number;
  /** Epoch ms of the oldest entry not yet acknowledged, when there is one. */
  oldestAt?: number;
}

type RawEntry = [id: string, fields: string[]] | null;

/**
 * The one owner of the hand-over from workers to results consumers: a Redis stream per queue
 * partition (keys.results), read by one consumer group (RESULTS_GROUP). A worker appends a
 * finished call's result; a consumer reads many at once with XREADGROUP, acknowledges and deletes
 * each once it is merged and published, and takes over what a dead consumer left unacknowledged
 * with XAUTOCLAIM. An entry may thus be handled twice (a worker that died after appending reports
 * again; a consumer that died before acknowledging), never lost: every step of a result is
 * idempotent per call and run (the merge's applied-marker, the publish's published-marker).
 */
export class ResultStream {
  constructor(private readonly redis: RedisClient) {}

  /** Hands a finished call's result to the consumers. Resolves once Redis has it. */
  async add(partition: number, result: CallResultJob): Promise<void> {
    await this.redis.xadd(keys.results(partition), '*', 'result', JSON.stringify(result));
  }

  /** Creates the partition's stream and consumer group unless they exist (from the stream's start). */
  async ensureGroup(partition: number): Promise<void> {
    await this.redis.xgroup('CREATE', keys.results(partition), RESULTS_GROUP, '0', 'MKSTREAM').catch((err: Error) => {
      if (!err.message.startsWith('BUSYGROUP')) throw err;
    });
  }

  /**
   * Up to `count` results for `consumer`: new ones (`'>'`, waiting up to `blockMs` for one), or
   * with `'0'` those it was given before and has not acknowledged. `reader` is a connection of its
   * own when blocking, so the wait holds up no other command.
   */
  async read(
    reader: RedisClient,
    partition: number,
    consumer: string,
    count: number,
    from: '>' | '0',
    blockMs: number,
  ): Promise<StreamedResult[]> {
    const key = keys.results(partition);
    const reply = (
      from === '>'
        ? await reader.xreadgroup(
            'GROUP',
            RESULTS_GROUP,
            consumer,
            'COUNT',
            count,
            'BLOCK',
            blockMs,
            'STREAMS',
            key,
            '>',
          )
        : await reader.xreadgroup('GROUP', RESULTS_GROUP, consumer, 'COUNT', count, 'STREAMS', key, '0')
    ) as [string, RawEntry[]][] | null;
    return reply ? this.parse(partition, reply[0][1]) : [];
  }

  /** Takes over up to `count` results other consumers were given over `minIdleMs` ago and never acknowledged. */
  async claim(partition: number, consumer: string, minIdleMs: number, count: number): Promise<StreamedResult[]> {
    const reply = (await this.redis.xautoclaim(
      keys.results(partition),
      RESULTS_GROUP,
      consumer,
      minIdleMs,
      '0-0',
      'COUNT',
      count,
    )) as [string, RawEntry[], string[]?];
    return this.parse(partition, reply[1]);
  }

  /** Done with these results: acknowledged and deleted, so the stream only holds unfinished ones. */
  async ack(partition: number, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const key = keys.results(partition);
    await Promise.all([this.redis.xack(key, RESULTS_GROUP, ...ids), this.redis.xdel(key, ...ids)]);
  }

  /** Results waiting for a consumer and being worked on in a partition, for the queue gauges. */
  async depth(partition: number): Promise<ResultsDepth> {
    const key = keys.results(partition);
    const [length, pending, oldest] = await Promise.all([
      this.redis.xlen(key),
      this.redis.xpending(key, RESULTS_GROUP).catch(() => [0]) as Promise<[number, ...unknown[]]>,
      this.redis.xrange(key, '-', '+', 'COUNT', 1),
    ]);
    const active = Number(pending[0]);
    const depth: ResultsDepth = { waiting: Math.max(0, length - active), active };
    if (oldest.length > 0) depth.oldestAt = Number(oldest[0][0].split('-')[0]);
    return depth;
  }

  /** The readable results; entries with nothing to apply are acknowledged on the way (they would stay pending). */
  private parse(partition: number, entries: RawEntry[]): StreamedResult[] {
    const results: StreamedResult[] = [];
    const empty: string[] = [];
    for (const entry of entries) {
      if (!entry) continue;
      const result = entry[1] && decode(entry[1]);
      if (result) results.push({ id: entry[0], result });
      else empty.push(entry[0]);
    }
    if (empty.length > 0) this.ack(partition, empty).catch(() => undefined);
    return results;
  }
}

/** An entry's result; undefined for an entry deleted while pending (no fields) or not written by add(). */
function decode(fields: string[]): CallResultJob | undefined {
  const at = fields.indexOf('result');
  if (at < 0) return undefined;
  try {
    return JSON.parse(fields[at + 1]) as CallResultJob;
  } catch {
    return undefined;
  }
}
