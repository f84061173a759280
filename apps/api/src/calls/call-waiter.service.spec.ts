import type { HookrunnerEvent } from '@hookrunner/contracts';
import type { CallRepository, RedisClient } from '@hookrunner/redis';
import type { BotEventListener, BotEventsService } from '../events/bot-events.service';
import { CallWaiterService } from './call-waiter.service';

/** BotEventsService's contract, in memory: listeners per bot, confirmed when `confirmation` settles. */
class MemoryEvents {
  readonly listeners = new Map<string, Set<BotEventListener>>();
  confirmation: Promise<void> = Promise.resolve();

  async subscribe(botId: string, listener: BotEventListener): Promise<() => void> {
    const set = this.listeners.get(botId) ?? new Set();
    this.listeners.set(botId, set.add(listener));
    const leave = () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(botId);
    };
    await this.confirmation.catch((err: unknown) => {
      leave();
      throw err;
    });
    return leave;
  }

  publish(botId: string, event: HookrunnerEvent): void {
    for (const listener of this.listeners.get(botId) ?? []) listener(event, JSON.stringify(event));
  }
}

const ended = (callId: string) => ({ type: 'call.succeeded', callId }) as HookrunnerEvent;

describe(CallWaiterService.name, () => {
  let events: MemoryEvents;
  let stored: Map<string, string>;
  let sut: CallWaiterService;

  beforeEach(() => {
    events = new MemoryEvents();
    stored = new Map();
    const calls = { endedEvent: (callId: string) => Promise.resolve(stored.get(callId) ?? null) };
    sut = new CallWaiterService(
      events as unknown as BotEventsService,
      calls as unknown as CallRepository,
      {} as RedisClient,
    );
  });

  afterEach(() => sut.onModuleDestroy());

  it('follows a bot with one listener however many watches are open, and leaves with the last', async () => {
    const watches = await Promise.all([1, 2, 3].map(() => sut.watch('bot-1', 1_000)));
    expect(events.listeners.get('bot-1')?.size).toBe(1);
    watches.slice(0, 2).forEach((watch) => watch!.close());
    expect(events.listeners.get('bot-1')?.size).toBe(1);
    watches[2]!.close();
    await new Promise(setImmediate);
    expect(events.listeners.has('bot-1')).toBe(false);
    const again = await sut.watch('bot-1', 1_000);
    expect(events.listeners.get('bot-1')?.size).toBe(1);
    again!.close();
  });

  it('answers two waits on the same call with its one event', async () => {
    const [first, second] = await Promise.all([sut.watch('bot-1', 1_000), sut.watch('bot-1', 1_000)]);
    const waits = [first!, second!].map((watch) => watch.until({ callId: 'call-1' }, 5_000, true));
    events.publish('bot-1', ended('call-1'));
    expect(await Promise.all(waits)).toEqual([
      { event: ended('call-1'), raw: JSON.stringify(ended('call-1')) },
      { event: ended('call-1'), raw: JSON.stringify(ended('call-1')) },
    ]);
  });

  it('answers with an event that came while the enqueue was in flight', async () => {
    const watch = await sut.watch('bot-1', 1_000);
    events.publish('bot-1', ended('call-1'));
    expect(await watch!.until({ callId: 'call-1' }, 5_000, false)).toEqual({
      event: ended('call-1'),
      raw: JSON.stringify(ended('call-1')),
    });
  });

  it('answers a replayed call that ended before the watch with its stored event', async () => {
    stored.set('call-1', JSON.stringify(ended('call-1')));
    const watch = await sut.watch('bot-1', 1_000);
    expect((await watch!.until({ callId: 'call-1' }, 5_000, true))?.event).toEqual(ended('call-1'));
  });

  it('gives up on a subscription not confirmed in time, and leaves it once it is', async () => {
    let confirm!: () => void;
    events.confirmation = new Promise((resolve) => (confirm = resolve));
    expect(await sut.watch('bot-1', 20)).toBeUndefined();
    confirm();
    await new Promise(setImmediate);
    expect(events.listeners.has('bot-1')).toBe(false);
  });

  it('subscribes again for the next watch after a subscription failed', async () => {
    events.confirmation = Promise.reject(new Error('Connection is closed.'));
    expect(await sut.watch('bot-1', 1_000)).toBeUndefined();
    events.confirmation = Promise.resolve();
    const watch = await sut.watch('bot-1', 1_000);
    const wait = watch!.until({ callId: 'call-1' }, 5_000, false);
    events.publish('bot-1', ended('call-1'));
    expect((await wait)?.event).toEqual(ended('call-1'));
  });

  it('ends every open wait, without its event, at shutdown', async () => {
    const watch = await sut.watch('bot-1', 1_000);
    const wait = watch!.until({ callId: 'call-1' }, 30_000, false);
    sut.onModuleDestroy();
    expect(await wait).toBeUndefined();
  });
});
