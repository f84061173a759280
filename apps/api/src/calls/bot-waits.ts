import { eventSubject, type HookrunnerEvent } from '@hookrunner/contracts';

/** A finished call's or turn's event: parsed, and as published. */
export interface FinishedCall {
  event: HookrunnerEvent;
  raw: string;
}

/** One request's place among its bot's waits, from before its enqueue until the request ends. */
export interface BotWatch {
  /** Where it opened in the bot's sequence of openings and events: earlier events are not its own. */
  readonly since: number;
}

interface Watch extends BotWatch {
  subject?: string;
  deliver?: (finished: FinishedCall) => void;
  closed?: boolean;
}

/**
 * One bot's waits, behind one listener on the bot's channel. An event costs O(1) however many
 * waits are open: it goes to the watches of its subject, found by id, and is kept for the watches
 * that cannot name theirs yet (their enqueue is in flight, so the call may end before it returns).
 */
export class BotWaits {
  /** Watches that know their subject, by its id. An idempotency key sent twice makes two of one. */
  private readonly bySubject = new Map<string, Set<Watch>>();
  /** Watches whose enqueue is in flight, oldest first. */
  private readonly unnamed = new Set<Watch>();
  /**
   * The events those may be waiting for, by subject, oldest first. Only those since the oldest of
   * them opened are kept, and none once they have all named their subject: under steady load it
   * holds the bot's events of about one enqueue's duration, never more.
   */
  private readonly early = new Map<string, { finished: FinishedCall; at: number }>();
  /** Orders openings and events: a counter, so two can never tie or go back as a clock can. */
  private sequence = 0;
  private open = 0;

  /** Watches open: the listener is needed while this is above 0. */
  get size(): number {
    return this.open;
  }

  /** Events kept for unnamed watches. */
  get kept(): number {
    return this.early.size;
  }

  /** Opens a watch before its enqueue: every event from now on is its concern. */
  watch(): BotWatch {
    const watch: Watch = { since: ++this.sequence };
    this.unnamed.add(watch);
    this.open++;
    return watch;
  }

  /**
   * Names the watch's subject once its enqueue has told it. Returns the subject's event if it came
   * since the watch opened; otherwise `deliver` receives it when it comes.
   */
  name(watch: BotWatch, subject: string, deliver: (finished: FinishedCall) => void): FinishedCall | undefined {
    const own = watch as Watch;
    if (own.closed || !this.unnamed.delete(own)) return undefined;
    // Read before pruning: the watch that kept it may have been this one.
    const seen = this.early.get(subject);
    this.prune();
    if (seen && seen.at > own.since) return seen.finished;
    own.subject = subject;
    own.deliver = deliver;
    let watches = this.bySubject.get(subject);
    if (!watches) this.bySubject.set(subject, (watches = new Set()));
    watches.add(own);
    return undefined;
  }

  /** Closes the watch; true the first time, when it was still open. */
  close(watch: BotWatch): boolean {
    const own = watch as Watch;
    if (own.closed) return false;
    own.closed = true;
    this.open--;
    if (this.unnamed.delete(own)) this.prune();
    else if (own.subject !== undefined) {
      const watches = this.bySubject.get(own.subject);
      watches?.delete(own);
      if (watches?.size === 0) this.bySubject.delete(own.subject);
    }
    return true;
  }

  /** One event of the bot, as published. */
  dispatch(event: HookrunnerEvent, raw: string): void {
    const subject = eventSubject(event);
    const finished = { event, raw };
    const watches = this.bySubject.get(subject);
    if (watches) for (const watch of watches) watch.deliver!(finished);
    // Kept even when a watch already has it: a second request for the same subject (the same
    // idempotency key) may still be enqueueing, and a turn's stored event may lag its publication.
    if (this.unnamed.size === 0) return;
    // Deleted first so that the map stays in order of arrival, which prune relies on.
    this.early.delete(subject);
    this.early.set(subject, { finished, at: ++this.sequence });
  }

  /** Drops the kept events that came before the oldest unnamed watch opened: none can want them. */
  private prune(): void {
    const oldest = this.unnamed.values().next();
    if (oldest.done) {
      this.early.clear();
      return;
    }
    for (const [subject, kept] of this.early) {
      if (kept.at > oldest.value.since) break;
      this.early.delete(subject);
    }
  }
}
