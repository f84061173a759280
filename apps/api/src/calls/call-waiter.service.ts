import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { type HookrunnerEvent } from '@hookrunner/contracts';
import { CallRepository, keys, REDIS, type RedisClient, within } from '@hookrunner/redis';
import { BotEventsService } from '../events/bot-events.service';
import { BotWaits, type BotWatch, type FinishedCall } from './bot-waits';

export type { FinishedCall } from './bot-waits';

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

/** A bot with a watch open: its waits, and the subscription of the one listener that feeds them. */
interface FollowedBot {
  waits: BotWaits;
  subscribed: Promise<() => void>;
}

/**
 * Waits for calls' results on the API's one shared subscriber, never by polling. A watch is
 * opened before the enqueue, so an event published the moment after it is not missed; a replayed
 * call that ended before that is found in its stored event, one GET.
 * One listener per bot, whatever the number of waits: a listener per wait cost every event of the
 * bot a call per open wait, which at a few hundred waited calls a second saturated the API.
 */
@Injectable()
export class CallWaiterService implements OnModuleDestroy {
  private readonly bots = new Map<string, FollowedBot>();
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
    const bot = this.follow(botId);
    const watch = bot.waits.watch();
    const close = () => this.release(botId, bot, watch);
    const subscribed = bot.subscribed.then(
      () => true,
      () => false,
    );
    if ((await within(subscribed, withinMs)) !== true) {
      close();
      return undefined;
    }
    return {
      until: (subject, waitMs, replayed) =>
        new Promise<FinishedCall | undefined>((resolve) => {
          const end = (finished?: FinishedCall) => {
            clearTimeout(timer);
            this.waiting.delete(end);
            resolve(finished);
          };
          const timer = setTimeout(end, waitMs);
          this.waiting.add(end);
          const seen = bot.waits.name(watch, 'turnId' in subject ? subject.turnId : subject.callId, end);
          if (seen) end(seen);
          else if (replayed)
            this.storedEvent(subject).then(
              (stored) => stored && end(stored),
              () => undefined,
            );
        }),
      close,
    };
  }

  /** The bot's waits, subscribing its one listener when its first watch opens. */
  private follow(botId: string): FollowedBot {
    const followed = this.bots.get(botId);
    if (followed) return followed;
    const waits = new BotWaits();
    const bot: FollowedBot = {
      waits,
      subscribed: this.events.subscribe(botId, (event, raw) => waits.dispatch(event, raw)),
    };
    this.bots.set(botId, bot);
    // A subscription that failed is not reused: the bot's next watch tries again.
    bot.subscribed.catch(() => this.forget(botId, bot));
    return bot;
  }

  /** Closes the watch, and removes the bot's listener when it was the last. */
  private release(botId: string, bot: FollowedBot, watch: BotWatch): void {
    if (!bot.waits.close(watch) || bot.waits.size > 0) return;
    this.forget(botId, bot);
    bot.subscribed.then(
      (leave) => leave(),
      () => undefined,
    );
  }

  private forget(botId: string, bot: FollowedBot): void {
    // A newer subscription may have taken the bot's place since.
    if (this.bots.get(botId) === bot) this.bots.delete(botId);
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
