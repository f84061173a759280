import type { HookrunnerEvent } from '@hookrunner/contracts';
import { BotWaits, type FinishedCall } from './bot-waits';

const ended = (callId: string) => ({ type: 'call.succeeded', callId }) as HookrunnerEvent;
const turned = (turnId: string) => ({ type: 'turn.completed', turnId }) as HookrunnerEvent;
const publish = (sut: BotWaits, event: HookrunnerEvent) => sut.dispatch(event, JSON.stringify(event));

describe(BotWaits.name, () => {
  let sut: BotWaits;
  let received: Map<string, FinishedCall[]>;
  const into = (name: string) => (finished: FinishedCall) =>
    received.set(name, [...(received.get(name) ?? []), finished]);

  beforeEach(() => {
    sut = new BotWaits();
    received = new Map();
  });

  it('hands an event to the watches of its subject only', () => {
    const [a, b] = [sut.watch(), sut.watch()];
    expect(sut.name(a, 'call-a', into('a'))).toBeUndefined();
    expect(sut.name(b, 'turn-b', into('b'))).toBeUndefined();
    publish(sut, ended('call-a'));
    publish(sut, ended('call-c'));
    publish(sut, turned('turn-b'));
    expect(received).toEqual(
      new Map([
        ['a', [{ event: ended('call-a'), raw: JSON.stringify(ended('call-a')) }]],
        ['b', [{ event: turned('turn-b'), raw: JSON.stringify(turned('turn-b')) }]],
      ]),
    );
  });

  it('hands one event to every watch of the same subject', () => {
    const [first, second] = [sut.watch(), sut.watch()];
    sut.name(first, 'call-1', into('first'));
    sut.name(second, 'call-1', into('second'));
    publish(sut, ended('call-1'));
    expect(received.get('first')).toHaveLength(1);
    expect(received.get('second')).toEqual(received.get('first'));
  });

  it('keeps an event that comes while a watch cannot name its subject yet, and answers it on naming', () => {
    const watch = sut.watch();
    publish(sut, ended('call-1'));
    expect(sut.name(watch, 'call-1', into('w'))).toEqual({
      event: ended('call-1'),
      raw: JSON.stringify(ended('call-1')),
    });
    expect(received.size).toBe(0);
  });

  it('keeps an event a named watch already got for one of the same subject still enqueueing', () => {
    const [named, enqueueing] = [sut.watch(), sut.watch()];
    sut.name(named, 'call-1', into('named'));
    publish(sut, ended('call-1'));
    expect(received.get('named')).toHaveLength(1);
    expect(sut.name(enqueueing, 'call-1', into('enqueueing'))?.event).toEqual(ended('call-1'));
  });

  it('does not answer a watch with an event from before it opened, though kept for an older one', () => {
    const older = sut.watch();
    publish(sut, ended('call-1'));
    const newer = sut.watch();
    expect(sut.name(newer, 'call-1', into('newer'))).toBeUndefined();
    expect(sut.name(older, 'call-1', into('older'))?.event).toEqual(ended('call-1'));
    publish(sut, ended('call-1'));
    expect(received.get('newer')).toHaveLength(1);
  });

  it('keeps nothing while every watch knows its subject, and nothing once none is open', () => {
    const named = sut.watch();
    sut.name(named, 'call-0', into('named'));
    publish(sut, ended('call-1'));
    expect(sut.kept).toBe(0);
    const enqueueing = sut.watch();
    publish(sut, ended('call-2'));
    expect(sut.kept).toBe(1);
    sut.close(enqueueing);
    expect(sut.kept).toBe(0);
    expect(sut.close(named)).toBe(true);
    expect(sut.close(named)).toBe(false);
    expect(sut.size).toBe(0);
  });

  it('holds no more than the events since the oldest enqueue in flight began, under steady load', () => {
    // 10,000 requests, each enqueue in flight while the next 5 open and 5 calls end.
    const inFlight: ReturnType<BotWaits['watch']>[] = [];
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      inFlight.push(sut.watch());
      publish(sut, ended(`other-${i}`));
      if (inFlight.length > 5) sut.close(inFlight.shift()!);
      most = Math.max(most, sut.kept);
    }
    expect(most).toBeLessThanOrEqual(6);
    inFlight.forEach((watch) => sut.close(watch));
    expect([sut.kept, sut.size]).toEqual([0, 0]);
  });

  it('stops handing events to a closed watch', () => {
    const watch = sut.watch();
    sut.name(watch, 'call-1', into('w'));
    sut.close(watch);
    publish(sut, ended('call-1'));
    expect(received.size).toBe(0);
    expect(sut.name(watch, 'call-1', into('w'))).toBeUndefined();
  });
});
