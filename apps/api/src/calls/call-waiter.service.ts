import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { eventSubject, type HookrunnerEvent } from '@hookrunner/contracts';
import { CallRepository, keys, REDIS, type RedisClient } from '@hookrunner/redis';
import { BotEventsService } from '../events/bot-events.service';

/** A finished call's or turn's event: parsed, and as published. */
export interface FinishedCall {
  event: HookrunnerEvent;
  raw: string;
}

/** What is waited for: a call, or a turn. */
export type WaitedSubject = { callId: string } | { turnId: string };

/** One request's watch on its bot's events, opened before its call is enqueued. */
export interface CallWatch {
  /**
   * The call's (or turn's) event once it is published, or undefined after `waitMs`. `replayed`: it
   * was enqueued by an earlier request and may have ended before this watch began.
   */
  until(subject: WaitedSubject, waitMs: number, replayed: boolean): Promise<FinishedCall | undefined>;
  close(): void;
}

/**
 * Waits for calls' results on the API's one shared subscriber, never by polling. A watch is
 * opened before the enqueue, so an event published the moment after it is not missed; a replayed
 * call that ended before that is found in its stored event, one GET.
 */
@Injectable()
export class CallWaiterService implements OnModuleDestroy {
  /** Every wait in progress, ended early (answered 202) when the process shuts down. */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly events: BotEventsService,
    private readonly calls: CallRepository,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  /**
   * Follows the bot's events, or gives up (undefined) when the subscription is not confirmed
   * within `withinMs`, e.g. while Redis is unreachable: the call is then enqueued, or refused, as
   * one without waitMs would be, instead of hanging on the subscriber's offline queue.
   */
  async watch(botId: string, withinMs: number): Promise<CallWatch | undefined> {
    // Until the callId is known, every event of the bot is kept: the enqueue takes milliseconds.
    const early = new Map<string, FinishedCall>();
    let target: { id: string; resolve: (finished: FinishedCall) => void } | undefined;
    const subscribed = this.events.subscribe(botId, (event, raw) => {
      if (!target) early.set(eventSubject(event), { event, raw });
      else if (eventSubject(event) === target.id) target.resolve({ event, raw });
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), withinMs)));
    const unsubscribe = await Promise.race([subscribed, late]).catch(() => undefined);
    clearTimeout(timer);
    if (!unsubscribe) {
      subscribed.then(
        (leave) => leave(),
        () => undefined,
      );
      return undefined;
    }
    return {
      until: async (subject, waitMs, replayed) => {
        const id = 'turnId' in subject ? subject.turnId : subject.callId;
        const seen = early.get(id);
        early.clear();
        if (seen) return seen;
        return new Promise<FinishedCall | undefined>((resolve) => {
          const end = (finished?: FinishedCall) => {
            clearTimeout(timer);
            this.waiting.delete(end);
            resolve(finished);
          };
          const timer = setTimeout(end, waitMs);
          this.waiting.add(end);
          target = { id, resolve: end };
          if (replayed)
            this.storedEvent(subject).then(
              (stored) => stored && end(stored),
              () => undefined,
            );
        });
      },
      close: unsubscribe,
    };
  }

  private async storedEvent(subject: WaitedSubject): Promise<FinishedCall | undefined> {
    const raw =
      'turnId' in subject
        ? await this.redis.hget(keys.turn(subject.turnId), 'event')
        : await this.calls.endedEvent(subject.callId);
    return raw === null ? undefined : { event: JSON.parse(raw) as HookrunnerEvent, raw };
  }

  /** At shutdown, before the HTTP server waits for open requests: every wait answers 202 now. */
  onModuleDestroy(): void {
    for (const end of [...this.waiting]) end();
  }
}
