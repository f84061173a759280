import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CALL_JOB, DEFAULT_SESSION_ID, ErrorCode, WebhookCallJob, WebhookDefinition } from '@hookrunner/contracts';
import { fairPriority } from '@hookrunner/isolation';
import { CallRepository, keys, pendingCallMember, REDIS, type RedisClient, replies } from '@hookrunner/redis';
import { DomainError } from '../errors/domain-error';
import { notFound } from '../webhooks/definitions.service';
import { ApiQueues } from '../queues';
import { EnqueueCallDto } from './dto/enqueue-call.dto';
import { EnqueueTurnDto } from './dto/enqueue-turn.dto';
import { BackpressureService } from './backpressure.service';

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * How long the request that claimed an idempotency key may take to enqueue its call and write the
 * call's record. A later request for the key waits up to this long from the claim for the record;
 * past it, with still no record, the claimant is taken for dead and the call is enqueued again.
 */
const CLAIM_GRACE_MS = 3_000;
const CLAIM_POLL_MS = 20;
/**
 * Jobs added per MULTI. BullMQ adds a bulk in one MULTI, and Redis runs all of it before any other
 * client's command: a batch of 1,000 held every other bot's enqueue for hundreds of ms (measured
 * in the isolation bench). Chunks of 100 keep that wait to a few ms.
 */
const ADD_CHUNK = 100;
/** A call pending longer than this no longer ranks its bot's next calls (its end may never have been reported). */
const PENDING_HORIZON_MS = 3_600_000;

export interface AcceptedTurn {
  turnId: string;
  callIds: string[];
  /** True when an idempotency key matched an earlier turn: nothing was enqueued. */
  replayed: boolean;
}

export interface Accepted {
  callId: string;
  /** True when an idempotency key matched an earlier call: nothing was enqueued. */
  replayed: boolean;
}

/**
 * Turns enqueue requests into jobs. A batch costs a fixed number of round trips whatever its
 * size: one to read the definitions, one to claim idempotency keys, one to add the jobs, one to
 * write the calls' records.
 */
@Injectable()
export class EnqueueService {
  private readonly logger = new Logger('enqueue');

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queues: ApiQueues,
    private readonly backpressure: BackpressureService,
    private readonly calls: CallRepository,
  ) {}

  async enqueue(botId: string, call: EnqueueCallDto): Promise<Accepted> {
    const [result] = await this.enqueueMany(botId, [call]);
    if (result instanceof DomainError) throw result;
    return result;
  }

  /**
   * Enqueues a turn's calls, all or none: a webhook that does not exist refuses the whole turn.
   * With an idempotency key, the turn's id and each call's are those of the first request with it.
   */
  async enqueueTurn(botId: string, turn: EnqueueTurnDto): Promise<AcceptedTurn> {
    const { calls, idempotencyKey, waitMs: _waitMs, ...shared } = turn;
    const turnId = idempotencyKey === undefined ? randomUUID() : turnIdOf(botId, idempotencyKey);
    const entries: EnqueueCallDto[] = calls.map((call, i) => ({
      ...shared,
      webhook: call.webhook,
      params: call.params,
      // Never one a client can send: theirs hold no spaces.
      idempotencyKey: idempotencyKey === undefined ? undefined : `turn ${idempotencyKey} ${i}`,
    }));
    const results = await this.enqueueMany(botId, entries, { turnId });
    const refused = results.find((r): r is DomainError => r instanceof DomainError);
    if (refused) throw refused;
    const accepted = results as Accepted[];
    return { turnId, callIds: accepted.map((a) => a.callId), replayed: accepted.every((a) => a.replayed) };
  }

  /**
   * One result per call, in order: accepted, or the DomainError that refused it. With `turn`, the
   * calls are one turn's: all are refused when one names a webhook that does not exist.
   */
  async enqueueMany(
    botId: string,
    calls: EnqueueCallDto[],
    turn?: { turnId: string },
  ): Promise<Array<Accepted | DomainError>> {
    this.backpressure.admit(calls.length);
    const now = Date.now();
    const callIds = calls.map(() => randomUUID());
    const { definitions, rankBefore } = await this.admit(botId, calls, callIds, now, turn !== undefined);
    // A turn naming an unknown webhook was admitted not at all: no token taken, no call ranked.
    const missing = turn && calls.find((call) => !definitions.get(call.webhook));
    if (missing) throw notFound(botId, missing.webhook);
    const results: Array<Accepted | DomainError> = [];
    const fresh: { index: number; job: WebhookCallJob; definition: WebhookDefinition; priority: number }[] = [];
    for (const [index, call] of calls.entries()) {
      const definition = definitions.get(call.webhook);
      if (!definition) {
        results[index] = notFound(botId, call.webhook);
        continue;
      }
      const job = toJob(botId, callIds[index], call, definition, now);
      results[index] = { callId: job.callId, replayed: false };
      // The admit script ranked the calls of known webhooks in this order.
      fresh.push({ index, job, definition, priority: fairPriority(rankBefore, fresh.length) });
    }

    const { claimed, claimAges } = await this.claimIdempotencyKeys(botId, calls, fresh, results);
    await this.reviveUnenqueued(fresh, results, claimAges);
    const toAdd = fresh.filter((f) => !(results[f.index] as Accepted).replayed);
    if (turn) {
      // Every call of the turn knows all of them, so the results consumer completes it on its own.
      const turnCallIds = results.map((r) => (r as Accepted).callId);
      for (const { index, job } of toAdd)
        job.turn = { turnId: turn.turnId, index, callIds: turnCallIds, enqueuedAt: now };
    }
    const unused = fresh.filter((f) => f.job.callId !== callIds[f.index] || (results[f.index] as Accepted).replayed);
    if (unused.length > 0)
      await this.redis.zrem(keys.pendingCalls(botId), ...unused.map((f) => pendingCallMember(now, callIds[f.index])));
    if (toAdd.length === 0) return results;
    const queue = this.queues.callsFor(botId);
    const ttl = this.config.retention.failedSeconds;
    let added = 0;
    // The chunk being added: should its add fail, any of its jobs may be queued all the same (a
    // MULTI whose one command fails runs the others; a reply can be lost).
    let adding: typeof toAdd = [];
    try {
      for (let from = 0; from < toAdd.length; from += ADD_CHUNK) {
        const chunk = toAdd.slice(from, from + ADD_CHUNK);
        adding = chunk;
        // One job needs no pipeline: ioredis copies every BullMQ script into each one it builds.
        if (chunk.length === 1)
          await queue.add(
            CALL_JOB,
            chunk[0].job,
            this.jobOptions(chunk[0].job, chunk[0].definition, chunk[0].priority),
          );
        else
          await queue.addBulk(
            chunk.map(({ job, definition, priority }) => ({
              name: CALL_JOB,
              data: job,
              opts: this.jobOptions(job, definition, priority),
            })),
          );
        added += chunk.length;
        adding = [];
        // After the add, so a record always means a job: a call whose record is missing was never
        // started (an attempt writes the record too), which is what reviveUnenqueued relies on.
        await Promise.all(chunk.map(({ job }) => this.calls.created(job, ttl)));
        // Other bots' requests get their turn on this process between chunks.
        if (added < toAdd.length) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      const notAdded = toAdd.slice(added);
      // Keys of calls never tried are released, so a retry enqueues them afresh. The failed chunk's
      // keep their claims: a retry with the same key finds the call's job, or after the claim's
      // grace period adds it under the same callId, which BullMQ will not add twice.
      const maybeQueued = new Set(adding.map((f) => f.job.callId));
      const untried = new Set(notAdded.filter((f) => !maybeQueued.has(f.job.callId)).map((f) => f.job.callId));
      await this.release(claimed.filter((c) => untried.has(c.callId))).catch(() => undefined);
      await this.redis
        .zrem(keys.pendingCalls(botId), ...notAdded.map((f) => pendingCallMember(now, f.job.callId)))
        .catch(() => undefined);
      if (added === 0) throw err;
      // Part of the batch is queued and stays so; each call that is not answers for itself. Redis's
      // own words (a script's SHA, a key's type) are for the log, not for the caller.
      this.logger.error(`bot ${botId}: ${notAdded.length} calls of a batch not enqueued: ${(err as Error).message}`);
      for (const { index } of notAdded) {
        results[index] = new DomainError(
          ErrorCode.RedisUnavailable,
          'Redis failed before this call was enqueued; retry it',
        );
      }
    }
    return results;
  }

  /**
   * Reads the calls' definitions, takes the bot's rate tokens for those that exist and ranks them
   * among the bot's pending calls: one round trip. `rankBefore`: the highest rank still pending.
   * `allOrNothing` (a turn): when one webhook is unknown, no call is admitted.
   */
  private async admit(
    botId: string,
    calls: EnqueueCallDto[],
    callIds: string[],
    now: number,
    allOrNothing: boolean,
  ): Promise<{ definitions: Map<string, WebhookDefinition | undefined>; rankBefore: number }> {
    const { perSecond, burst } = this.config.rateLimit;
    if (perSecond > 0 && calls.length > burst) {
      throw new DomainError(ErrorCode.RateLimited, `a batch may hold at most ${burst} calls (RATE_LIMIT_BURST)`);
    }
    const names = [...new Set(calls.map((call) => call.webhook))];
    const nameIndex = new Map(names.map((name, i) => [name, i + 1]));
    const reply = await this.redis.hookrunnerAdmitCalls(
      keys.rateBucket(botId),
      keys.webhooks(botId),
      keys.pendingCalls(botId),
      perSecond,
      burst,
      now,
      now - PENDING_HORIZON_MS,
      allOrNothing ? 1 : 0,
      names.length,
      ...names,
      ...calls.flatMap((call, i) => [callIds[i], nameIndex.get(call.webhook)!]),
    );
    if (reply[0] === 0) {
      const waitMs = reply[1];
      throw new DomainError(
        ErrorCode.RateLimited,
        `bot ${botId} may enqueue ${perSecond} calls per second (RATE_LIMIT_PER_BOT); retry later`,
        Math.max(1, Math.ceil(waitMs / 1000)),
      );
    }
    const definitions = new Map(
      names.map((name, i) => {
        const raw = reply[i + 2] as string | null;
        return [name, raw === null ? undefined : (JSON.parse(raw) as WebhookDefinition)] as const;
      }),
    );
    return { definitions, rankBefore: reply[1] };
  }

  private jobOptions(job: WebhookCallJob, definition: WebhookDefinition, priority: number): JobsOptions {
    return {
      jobId: job.callId,
      // The bot's fair-queuing rank within its partition (libs/isolation fairPriority).
      priority,
      attempts: definition.retry.attempts,
      backoff: { type: 'webhook' },
      // The result job (same id) holds the call's status from before this completes until the
      // record is written, so nothing needs keeping once done.
      removeOnComplete: true,
      removeOnFail: { age: this.config.retention.failedSeconds },
    };
  }

  /**
   * SET NX GET per keyed call in one pipeline: the first call with a key claims it; a later one (in
   * this batch or within 24 h) gets the first call's callId and is marked replayed. `claimAges`:
   * how long ago each replayed callId was claimed by another request (read from the key's TTL).
   */
  private async claimIdempotencyKeys(
    botId: string,
    calls: EnqueueCallDto[],
    fresh: { index: number; job: WebhookCallJob }[],
    results: Array<Accepted | DomainError>,
  ): Promise<{ claimed: { key: string; callId: string }[]; claimAges: Map<string, number> }> {
    const claimed: { key: string; callId: string }[] = [];
    const claimAges = new Map<string, number>();
    const keyed = fresh.filter((f) => calls[f.index].idempotencyKey !== undefined);
    if (keyed.length === 0) return { claimed, claimAges };
    const pipeline = this.redis.pipeline();
    for (const { index, job } of keyed) {
      const key = keys.idempotency(botId, calls[index].idempotencyKey!);
      pipeline.call('SET', key, job.callId, 'NX', 'GET', 'EX', IDEMPOTENCY_TTL_SECONDS);
      pipeline.pttl(key);
    }
    const answers = replies(await pipeline.exec());
    keyed.forEach(({ index, job }, i) => {
      const earlier = answers[2 * i];
      if (typeof earlier === 'string') {
        results[index] = { callId: earlier, replayed: true };
        const ttl = answers[2 * i + 1] as number;
        if (ttl > 0) claimAges.set(earlier, IDEMPOTENCY_TTL_SECONDS * 1000 - ttl);
      } else claimed.push({ key: keys.idempotency(botId, calls[index].idempotencyKey!), callId: job.callId });
    });
    // A key repeated inside this batch names a call this request enqueues itself.
    for (const { callId } of claimed) claimAges.delete(callId);
    return { claimed, claimAges };
  }

  /**
   * A key can name a call that never reached the queue: the request that claimed it lost Redis
   * between the claim and the add (and so answered 503), or died there. The claimant writes the
   * call's record right after its add, and an attempt writes it too, so a record means the call is
   * under way. A replayed callId without one waits for it until CLAIM_GRACE_MS after the claim;
   * then the call is enqueued again under that same callId. Adding it at once instead could run it
   * twice: the claimant's job may run and be removed between this request's look and its add.
   */
  private async reviveUnenqueued(
    fresh: { index: number; job: WebhookCallJob }[],
    results: Array<Accepted | DomainError>,
    claimAges: Map<string, number>,
  ): Promise<void> {
    let waiting = fresh.filter((f) => claimAges.has((results[f.index] as Accepted).callId));
    const started = Date.now();
    while (waiting.length > 0) {
      const exist = await this.calls.exist(waiting.map(({ index }) => (results[index] as Accepted).callId));
      waiting = waiting.filter((_entry, i) => !exist[i]);
      const waited = Date.now() - started;
      const abandoned = waiting.filter(
        (f) => claimAges.get((results[f.index] as Accepted).callId)! + waited >= CLAIM_GRACE_MS,
      );
      for (const entry of abandoned) {
        const { callId } = results[entry.index] as Accepted;
        entry.job.callId = callId;
        results[entry.index] = { callId, replayed: false };
      }
      waiting = waiting.filter((f) => !abandoned.includes(f));
      if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    }
  }

  private async release(claimed: { key: string; callId: string }[]): Promise<void> {
    if (claimed.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { key, callId } of claimed) pipeline.hookrunnerReleaseIdempotencyKey(key, callId);
    await pipeline.exec();
  }
}

/** A turn's id from its idempotency key: the same key of the same bot names the same turn. */
function turnIdOf(botId: string, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${botId}\0${idempotencyKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function toJob(
  botId: string,
  callId: string,
  call: EnqueueCallDto,
  definition: WebhookDefinition,
  now: number,
): WebhookCallJob {
  return {
    callId,
    botId,
    userId: call.userId,
    sessionId: call.sessionId ?? DEFAULT_SESSION_ID,
    webhook: definition.name,
    request: {
      method: definition.method,
      url: definition.url,
      params: { ...definition.params, ...call.params },
      headers: definition.headers,
      timeoutMs: definition.timeoutMs,
    },
    retry: definition.retry,
    memory: call.memory ?? {},
    user: call.user ?? {},
    enqueuedAt: now,
    run: 0,
  };
}
