import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RESULT_RETRY, type CallResultJob } from '@hookrunner/contracts';
import { closeRedis, type RedisClient } from './connections';
import type { ResultStream, StreamedResult } from './result-stream';
import { TIMED_OUT, within } from './time-limit';

/** How long a read waits for new results: also the longest a clean shutdown waits on an idle read. */
const BLOCK_MS = 1_000;
/**
 * Longest one result's handling is waited for before it counts as failed (it stays pending and is
 * read again; every step is idempotent). A batch is acknowledged only once all its results are
 * settled, so one handling that never settles would otherwise stop its partition for good.
 */
const HANDLE_TIMEOUT_MS = 10_000;

export interface ResultConsumerOptions {
  partitions: number;
  /** Results read at once per partition and handled side by side (their Redis commands leave together). */
  batch: number;
  /**
   * A result another consumer was given this long ago and never acknowledged is taken over: its
   * consumer is presumed dead.
   */
  claimIdleMs: number;
  /** How often to look for such results. */
  claimIntervalMs: number;
  onError(err: Error): void;
  /** A result that failed RESULT_RETRY.attempts times in a row, given up on. */
  onDropped(result: CallResultJob, err: Error): void;
}

/**
 * Reads every partition's results stream as one consumer of the results group: a loop per
 * partition takes up to `batch` results at once and hands each to `handle`, all side by side,
 * then acknowledges those handled. A result whose handling failed stays pending and is read
 * again (with backoff) until it succeeds or has failed RESULT_RETRY.attempts times; a dead
 * consumer's pending results are claimed after `claimIdleMs`.
 */
export class ResultConsumer {
  /** Unique per process: a restarted consumer claims its predecessor's results like anyone's. */
  readonly name = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly readers: RedisClient[] = [];
  private readonly inFlight: Set<string>[] = [];
  private readonly failures = new Map<string, number>();
  private loops: Promise<void>[] = [];
  private timer?: NodeJS.Timeout;
  private claiming = false;
  private stopping = false;

  constructor(
    private readonly stream: ResultStream,
    private readonly connection: RedisClient,
    private readonly handle: (result: CallResultJob) => Promise<void>,
    private readonly options: ResultConsumerOptions,
  ) {}

  start(): void {
    for (let p = 0; p < this.options.partitions; p++) {
      // A blocking read holds its connection: one of its own per partition.
      this.readers.push(this.connection.duplicate());
      this.inFlight.push(new Set());
    }
    this.loops = this.readers.map((_, p) => this.loop(p));
    this.timer = setInterval(() => void this.claimAll(), this.options.claimIntervalMs).unref();
  }

  /** Why no results are being read, if they are not. */
  problem(): string | undefined {
    return this.loops.length === 0 || this.stopping ? 'results consumer is not running' : undefined;
  }

  /** Stops reading and waits for the results in hand, at most `graceMs`; false when some were still being handled. */
  async drain(graceMs: number): Promise<boolean> {
    this.stopping = true;
    clearInterval(this.timer);
    const ended = (await within(Promise.all(this.loops), graceMs)) !== TIMED_OUT;
    await Promise.all(this.readers.map((reader) => closeRedis(reader)));
    return ended;
  }

  private async loop(p: number): Promise<void> {
    // Its own unacknowledged results first ('0'), then new ones ('>'); back to '0' after a failure.
    let from: '>' | '0' = '0';
    let failedInARow = 0;
    let grouped = false;
    let regrouped = false;
    while (!this.stopping) {
      try {
        if (!grouped) {
          await this.stream.ensureGroup(p);
          grouped = true;
        }
        const results = await this.stream.read(this.readers[p], p, this.name, this.options.batch, from, BLOCK_MS);
        await this.handleAll(p, results);
        // On to new results once its own pending ones have been read (a full batch may have more
        // behind it). A result that failed stays pending and is retried by claimAll once it has
        // been idle claimIdleMs: it never holds up the partition's other results, other bots' among them.
        if (from === '0' && results.length < this.options.batch) from = '>';
        failedInARow = 0;
        regrouped = false;
      } catch (err) {
        if (this.stopping) break;
        // The stream or its group is gone (Redis lost its data, or FLUSHALL, which also ends a
        // blocked read with UNBLOCKED): create them again. Workers may be adding results
        // already, so the first time it reads on at once.
        if (isGroupLost(err as Error)) {
          grouped = false;
          if (!regrouped) {
            regrouped = true;
            continue;
          }
        } else this.options.onError(err as Error);
        failedInARow += 1;
      }
      if (failedInARow > 0) await sleep(Math.min(RESULT_RETRY.baseMs * 2 ** (failedInARow - 1), RESULT_RETRY.capMs));
    }
  }

  /** Handles results side by side and acknowledges those done; one that failed stays pending. */
  private async handleAll(p: number, batch: StreamedResult[]): Promise<void> {
    const inFlight = this.inFlight[p];
    const mine = batch.filter((entry) => !inFlight.has(entry.id));
    for (const entry of mine) inFlight.add(entry.id);
    try {
      const outcomes = await Promise.allSettled(mine.map((entry) => this.handleWithin(entry.result)));
      const done: string[] = [];
      outcomes.forEach((outcome, i) => {
        const { id, result } = mine[i];
        if (outcome.status === 'fulfilled') {
          done.push(id);
          this.failures.delete(id);
          return;
        }
        const failures = (this.failures.get(id) ?? 0) + 1;
        this.options.onError(outcome.reason as Error);
        if (failures < RESULT_RETRY.attempts) {
          this.failures.set(id, failures);
          return;
        }
        this.failures.delete(id);
        this.options.onDropped(result, outcome.reason as Error);
        done.push(id);
      });
      await this.stream.ack(p, done);
    } finally {
      for (const entry of mine) inFlight.delete(entry.id);
    }
  }

  private async handleWithin(result: CallResultJob): Promise<void> {
    if ((await within(this.handle(result), HANDLE_TIMEOUT_MS)) === TIMED_OUT)
      throw new Error(`result of call ${result.callId} not handled within ${HANDLE_TIMEOUT_MS} ms; it is read again`);
  }

  /** Takes over and handles what dead consumers left unacknowledged, a batch at a time. */
  private async claimAll(): Promise<void> {
    if (this.claiming || this.stopping) return;
    this.claiming = true;
    try {
      for (let p = 0; p < this.options.partitions && !this.stopping; p++) {
        for (;;) {
          const claimed = await this.stream.claim(p, this.name, this.options.claimIdleMs, this.options.batch);
          await this.handleAll(p, claimed);
          if (claimed.length < this.options.batch || this.stopping) break;
        }
      }
    } catch (err) {
      if (!isGroupLost(err as Error)) this.options.onError(err as Error);
    } finally {
      this.claiming = false;
    }
  }
}

/** The error of a read or claim whose stream or group no longer exists. */
function isGroupLost(err: Error): boolean {
  return err.message.includes('NOGROUP') || err.message.startsWith('UNBLOCKED');
}
