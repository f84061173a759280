import Redis from 'ioredis';
import { EVENTS_STREAM, eventsChannel } from './contracts';
import { eventKey, HookrunnerEvent } from './types';

export interface SubscribeOptions {
  /**
   * A stream entry id (a saved `position`): every event of the bot after it is delivered before
   * the live ones. Default: only events published from now on. Entries trimmed from the stream
   * (past EVENTS_STREAM_MAXLEN) are gone.
   */
  fromId?: string;
  /** Errors of the connections and of onEvent; the subscription carries on. Default: ignored. */
  onError?: (err: Error) => void;
  /** How often, while connected, the stream is read to move `position` forward, in ms. Default 30000; 0: never. */
  checkpointEveryMs?: number;
  /** Entries read from the stream per round trip while catching up. Default 1000. */
  batchSize?: number;
}

export interface Subscription {
  /** A stream id after which no event of the bot has been missed: save it, pass it back as `fromId`. */
  readonly position: string;
  /** Resolves once the subscription is live and caught up with the stream. */
  caughtUp(): Promise<void>;
  /**
   * Reads the stream up to its end one last time (so `position` is past every delivered event),
   * waits for events being handled, and closes the connections it opened.
   */
  close(): Promise<void>;
}

type OnEvent = (event: HookrunnerEvent, id?: string) => void | Promise<void>;

/** Remembers the last `capacity` delivered events, so a catch-up does not hand them over twice. */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** True when the key is new (and remembers it). */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
    return true;
  }
}

/**
 * Follows `botId`'s channel on its own connection and, each time that connection is (re)made,
 * reads the stream from the last position once SUBSCRIBE is confirmed: an event published while
 * disconnected is delivered from the stream, and one published since from the channel.
 */
export async function subscribeEvents(
  redis: Redis | string,
  botId: string,
  onEvent: OnEvent,
  options: SubscribeOptions = {},
): Promise<Subscription> {
  const ownReader = typeof redis === 'string';
  const reader = typeof redis === 'string' ? new Redis(redis) : redis;
  // Re-subscribing is ours to do after a reconnect: the catch-up must follow its confirmation.
  const subscriber =
    typeof redis === 'string'
      ? new Redis(redis, { autoResubscribe: false })
      : redis.duplicate({ autoResubscribe: false });
  const channel = eventsChannel(botId);
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));
  const recent = new RecentKeys(10_000);
  const batchSize = options.batchSize ?? 1_000;

  let position = options.fromId;
  let live = false;
  let closed = false;
  let buffered: HookrunnerEvent[] = [];
  let delivering: Promise<void> = Promise.resolve();
  let catching: Promise<void> = Promise.resolve();
  let markCaughtUp: () => void = () => undefined;
  let caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));

  const deliver = (event: HookrunnerEvent, id?: string) => {
    if (!recent.add(eventKey(event))) return;
    delivering = delivering.then(() => onEvent(event, id)).catch(report);
  };

  /** Reads the stream after `position`, delivering the bot's events, and moves `position` on. */
  const readStream = async () => {
    if (position === undefined) {
      const [last] = await reader.xrevrange(EVENTS_STREAM, '+', '-', 'COUNT', 1);
      position = last ? last[0] : '0-0';
      return;
    }
    for (;;) {
      const entries: [string, string[]][] = await reader.xrange(EVENTS_STREAM, `(${position}`, '+', 'COUNT', batchSize);
      for (const [id, fields] of entries) {
        const event = eventOf(fields, botId);
        if (event) deliver(event, id);
        position = id;
      }
      if (entries.length < batchSize || closed) return;
    }
  };

  const catchUp = () => {
    catching = catching.then(async () => {
      if (closed) return;
      live = false;
      try {
        await subscriber.subscribe(channel);
        await readStream();
        for (const event of buffered) deliver(event);
        buffered = [];
        live = true;
        markCaughtUp();
      } catch (err) {
        report(err);
        // The connection dropped mid-way: its next 'ready' starts over; until then nothing is lost.
      }
    });
    return catching;
  };

  subscriber.on('message', (_channel: string, raw: string) => {
    let event: HookrunnerEvent;
    try {
      event = JSON.parse(raw) as HookrunnerEvent;
    } catch {
      return;
    }
    if (live) deliver(event);
    else buffered.push(event);
  });
  subscriber.on('ready', () => void catchUp());
  subscriber.on('close', () => {
    if (!live) return;
    live = false;
    caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  });
  subscriber.on('error', report);
  if (ownReader) reader.on('error', report);

  const checkpoint =
    (options.checkpointEveryMs ?? 30_000) > 0
      ? setInterval(() => {
          if (live) catching = catching.then(() => readStream()).catch(report);
        }, options.checkpointEveryMs ?? 30_000)
      : undefined;
  checkpoint?.unref();

  await caughtUp;
  return {
    get position() {
      return position ?? '0-0';
    },
    caughtUp: () => caughtUp,
    close: async () => {
      // A last read while still live moves `position` past every event delivered so far.
      if (live && !closed) catching = catching.then(() => readStream()).catch(report);
      closed = true;
      live = false;
      if (checkpoint) clearInterval(checkpoint);
      subscriber.disconnect();
      await catching.catch(() => undefined);
      await delivering;
      if (ownReader) reader.disconnect();
    },
  };
}

/** The stream entry's event when it is `botId`'s. */
function eventOf(fields: string[], botId: string): HookrunnerEvent | undefined {
  let owner: string | undefined;
  let raw: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'botId') owner = fields[i + 1];
    else if (fields[i] === 'event') raw = fields[i + 1];
  }
  if (owner !== botId || raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as HookrunnerEvent;
  } catch {
    return undefined;
  }
}
