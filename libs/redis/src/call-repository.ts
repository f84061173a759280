import type { RedisClient } from './connections';
import {
  type AttemptRecord,
  CALL_EVENT_TTL_SECONDS,
  type CallError,
  type CallTarget,
  type CallView,
  type WebhookReply,
} from '@hookrunner/contracts';
import { keys } from './keys';
import { replies } from './replies';

/** A call as its record holds it: what GET /v1/calls/{callId} shows, less the log, plus the run. */
export interface StoredCall extends Omit<CallView, 'attemptLog'> {
  /** 0 for the first run, n after the n-th replay. */
  run: number;
  /** The final attempt of an ended run; the earlier ones are in the log. */
  lastAttempt?: AttemptRecord;
}

/** How a run ended, as the results consumer reports it. */
export interface CallEnd {
  status: 'succeeded' | 'failed';
  attempts: number;
  finishedAt: number;
  lastAttempt: AttemptRecord;
  result?: WebhookReply;
  error?: CallError;
}

/** What a refused transition found instead: the record's status, or none when there is no record. */
export type Refusal = { written: false; status?: string };
type Written = { written: true };

/**
 * The one owner of a call's status. Every role writes it through the call-transition script
 * (lua/call-transition.lua, whose rules keep late or repeated writes from moving a call
 * backwards), and the API reads it from here only: never from the queues' internals.
 *
 * The record is a hash beside the call's attempt log, in the call's own slot.
 */
export class CallRepository {
  constructor(private readonly redis: RedisClient) {}

  /** A new call, accepted and queued. No-op when a worker wrote the record first. */
  async created(call: CallTarget & { enqueuedAt: number }, ttlSeconds: number): Promise<Written | Refusal> {
    const fields = [...identity(call), 'status', 'queued', 'run', 0, 'attempts', 0];
    return this.write(call.callId, 'create', 0, ttlSeconds, '', '', fields);
  }

  /** An attempt has started. Writes the whole identity too: the record may not exist yet. */
  async attemptStarted(call: CallTarget & { enqueuedAt: number; run: number }, attempt: number, ttlSeconds: number) {
    const fields = [...identity(call), 'status', 'running', 'run', call.run, 'attempts', attempt];
    return this.write(call.callId, 'advance', call.run, ttlSeconds, '', '', fields);
  }

  /**
   * An attempt failed and the call will be tried again: the attempt goes to the log. Writes the
   * whole identity too: an attempt that ended quickly never marked the call running.
   */
  async retrying(call: CallTarget & { enqueuedAt: number; run: number }, logged: AttemptRecord, ttlSeconds: number) {
    const fields = [...identity(call), 'status', 'retrying', 'run', call.run, 'attempts', logged.attempt];
    return this.write(call.callId, 'advance', call.run, ttlSeconds, JSON.stringify(logged), '', fields);
  }

  /**
   * The run ended with `eventJson`, the event about to be published. A copy of the event is kept
   * CALL_EVENT_TTL_SECONDS beside the record, for a waited enqueue whose idempotency key names a
   * call that has finished already; both are written, by one script call, before the caller publishes.
   */
  async ended(
    call: CallTarget & { enqueuedAt: number; run: number },
    end: CallEnd,
    ttlSeconds: number,
    eventJson: string,
  ): Promise<Written | Refusal> {
    const fields: (string | number)[] = [
      ...identity(call),
      'run',
      call.run,
      'status',
      end.status,
      'attempts',
      end.attempts,
      'finishedAt',
      new Date(end.finishedAt).toISOString(),
      'lastAttempt',
      JSON.stringify(end.lastAttempt),
    ];
    if (end.result) fields.push('result', JSON.stringify(end.result));
    if (end.error) fields.push('error', JSON.stringify(end.error));
    // The event's copy only with the write that ends the run: a late second report keeps the first's.
    return this.write(call.callId, 'advance', call.run, ttlSeconds, '', 'result error', fields, eventJson);
  }

  /** A failed call goes back to queued as run `run`; refused unless it is failed at run - 1. */
  async replayed(callId: string, run: number, ttlSeconds: number): Promise<Written | Refusal> {
    const clear = 'finishedAt lastAttempt result error';
    // The script also drops the old run's event: the replay will publish its own.
    return this.write(callId, 'replay', run, ttlSeconds, '', clear, ['status', 'queued', 'run', run, 'attempts', 0]);
  }

  /** The event of the call's last ended run, while its copy is kept (CALL_EVENT_TTL_SECONDS). */
  async endedEvent(callId: string): Promise<string | null> {
    return this.redis.get(keys.callEvent(callId));
  }

  /**
   * Whether each call has a record. Calls live in slots of their own, so this is one command per
   * call, sent together: one write on one node (the client auto-pipelines), one per node on a cluster.
   */
  async exist(callIds: string[]): Promise<boolean[]> {
    return (await Promise.all(callIds.map((callId) => this.redis.exists(keys.call(callId))))).map((n) => n === 1);
  }

  /** The call and its attempt log, oldest first: one round trip (they share the call's slot). */
  async find(callId: string): Promise<{ call: StoredCall; attemptLog: AttemptRecord[] } | undefined> {
    const [hash, log] = replies(
      await this.redis.pipeline().hgetall(keys.call(callId)).lrange(keys.attempts(callId), 0, -1).exec(),
    ) as [Record<string, string>, string[]];
    const call = fromHash(hash);
    return call && { call, attemptLog: log.map((entry) => JSON.parse(entry) as AttemptRecord) };
  }

  /** Several calls without their logs (sent together, as exist is); undefined where a call is gone. */
  async findMany(callIds: string[]): Promise<(StoredCall | undefined)[]> {
    return (await Promise.all(callIds.map((callId) => this.redis.hgetall(keys.call(callId))))).map(fromHash);
  }

  private async write(
    callId: string,
    transition: 'create' | 'advance' | 'replay',
    run: number,
    ttlSeconds: number,
    logEntry: string,
    clear: string,
    fields: (string | number)[],
    eventJson = '',
  ): Promise<Written | Refusal> {
    const reply = await this.redis.hookrunnerCallTransition(
      keys.call(callId),
      keys.attempts(callId),
      keys.callEvent(callId),
      transition,
      run,
      ttlSeconds,
      logEntry,
      clear,
      eventJson,
      CALL_EVENT_TTL_SECONDS,
      ...fields,
    );
    return reply === 1 ? { written: true } : { written: false, status: reply ?? undefined };
  }
}

function identity(call: CallTarget & { enqueuedAt: number }): (string | number)[] {
  return [
    'callId',
    call.callId,
    'botId',
    call.botId,
    'webhook',
    call.webhook,
    'userId',
    call.userId,
    'sessionId',
    call.sessionId,
    'createdAt',
    new Date(call.enqueuedAt).toISOString(),
  ];
}

function fromHash(hash: Record<string, string>): StoredCall | undefined {
  if (!hash.status) return undefined;
  const call: StoredCall = {
    callId: hash.callId,
    botId: hash.botId,
    webhook: hash.webhook,
    userId: hash.userId,
    sessionId: hash.sessionId,
    status: hash.status as StoredCall['status'],
    attempts: Number(hash.attempts),
    createdAt: hash.createdAt,
    run: Number(hash.run),
  };
  if (hash.finishedAt) call.finishedAt = hash.finishedAt;
  if (hash.result) call.result = JSON.parse(hash.result) as WebhookReply;
  if (hash.error) call.error = JSON.parse(hash.error) as CallError;
  if (hash.lastAttempt) call.lastAttempt = JSON.parse(hash.lastAttempt) as AttemptRecord;
  return call;
}
