import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { eventsChannel, type HookrunnerEvent } from '@hookrunner/contracts';
import { closeRedis, createRedis, type RedisClient } from '@hookrunner/redis';

/** Receives one bot's events as published; `raw` is the JSON exactly as it went out. */
export type BotEventListener = (event: HookrunnerEvent, raw: string) => void;

/**
 * The API process's one Redis subscriber. Everything in the API that follows a bot's events
 * (the SSE stream, waiting for a call's result) subscribes here: however many listeners, a bot's
 * channel is subscribed once per process, and unsubscribed when its last listener leaves.
 * After a reconnect it subscribes every followed channel again; should that fail (the connection
 * dropped again), the next reconnect does it.
 */
@Injectable()
export class BotEventsService implements OnApplicationShutdown {
  private readonly logger = new Logger('events');
  private subscriber?: RedisClient;
  private readonly listeners = new Map<string, Set<BotEventListener>>();
  /** The SUBSCRIBE in flight or done per channel, so a second listener waits on the same one. */
  private readonly subscribed = new Map<string, Promise<unknown>>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Adds a listener to a bot's events. Resolves once Redis has confirmed the subscription, so an
   * event published after that is never missed. Returns the function that removes the listener.
   */
  async subscribe(botId: string, listener: BotEventListener): Promise<() => void> {
    const channel = eventsChannel(botId);
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    let confirmed = this.subscribed.get(channel);
    if (!confirmed) {
      confirmed = this.connection().subscribe(channel);
      this.subscribed.set(channel, confirmed);
    }
    try {
      await confirmed;
    } catch (err) {
      this.remove(channel, listener);
      throw err;
    }
    return () => this.remove(channel, listener);
  }

  private remove(channel: string, listener: BotEventListener): void {
    const set = this.listeners.get(channel);
    if (!set?.delete(listener) || set.size > 0) return;
    this.listeners.delete(channel);
    this.subscribed.delete(channel);
    this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }

  private connection(): RedisClient {
    if (this.subscriber) return this.subscriber;
    // Opened on first use: an API that nobody follows events on holds no subscriber connection.
    const subscriber = createRedis(this.config, 'subscriber', 'hookrunner:api-events');
    subscriber.on('message', (channel: string, raw: string) => this.dispatch(channel, raw));
    let connectedBefore = false;
    subscriber.on('ready', () => {
      const channels = [...this.listeners.keys()];
      if (connectedBefore && channels.length > 0)
        subscriber
          .subscribe(...channels)
          .catch((err: Error) => this.logger.warn(`could not subscribe again after a reconnect: ${err.message}`));
      connectedBefore = true;
    });
    subscriber.on('error', (err: Error) => this.logger.warn(`event subscriber: ${err.message}`));
    this.subscriber = subscriber;
    return subscriber;
  }

  private dispatch(channel: string, raw: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    let event: HookrunnerEvent;
    try {
      event = JSON.parse(raw) as HookrunnerEvent;
    } catch {
      return; // Only Hookrunner publishes here; a foreign message is not an event.
    }
    for (const listener of set) listener(event, raw);
  }

  async onApplicationShutdown(): Promise<void> {
    this.listeners.clear();
    this.subscribed.clear();
    if (this.subscriber) await closeRedis(this.subscriber);
  }
}
