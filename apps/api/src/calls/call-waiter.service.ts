import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { CallEvent } from '@hookrunner/contracts';
import { CallRepository } from '@hookrunner/redis';
import { BotEventsService } from '../events/bot-events.service';

/** A finished call's event: parsed, and as published. */
export interface FinishedCall {
  event: CallEvent;
  raw: string;
}

/** One request's watch on its bot's events, opened before its call is enqueued. */
export interface CallWatch {
  /**
   * The call's event once it is published, or undefined after `waitMs`. `replayed`: the call was
   * enqueued by an earlier request and may have ended before this watch began.
   */
  until(callId: string, waitMs: number, replayed: boolean): Promise<FinishedCall | undefined>;
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
  ) {}

  /**
   * Follows the bot's events, or gives up (undefined) when the subscription is not confirmed
   * within `withinMs`, e.g. while Redis is unreachable: the call is then enqueued, or refused, as
   * one without waitMs would be, instead of hanging on the subscriber's offline queue.
   */
  async watch(botId: string, withinMs: number): Promise<CallWatch | undefined> {
    // Until the callId is known, every event of the bot is kept: the enqueue takes milliseconds.
    const early = new Map<string, FinishedCall>();
    let target: { callId: string; resolve: (finished: FinishedCall) => void } | undefined;
    const subscribed = this.events.subscribe(botId, (event, raw) => {
      if (!target) early.set(event.callId, { event, raw });
      else if (event.callId === target.callId) target.resolve({ event, raw });
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
      until: async (callId, waitMs, replayed) => {
        const seen = early.get(callId);
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
          target = { callId, resolve: end };
          if (replayed)
            this.storedEvent(callId).then(
              (stored) => stored && end(stored),
              () => undefined,
            );
        });
      },
      close: unsubscribe,
    };
  }

  private async storedEvent(callId: string): Promise<FinishedCall | undefined> {
    const raw = await this.calls.endedEvent(callId);
    return raw === null ? undefined : { event: JSON.parse(raw) as CallEvent, raw };
  }

  /** At shutdown, before the HTTP server waits for open requests: every wait answers 202 now. */
  onModuleDestroy(): void {
    for (const end of [...this.waiting]) end();
  }
}
