import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { ErrorCode } from '@hookrunner/contracts';
import { DomainError } from '../errors/domain-error';
import { ApiQueues } from '../queues';

/** How often the waiting count is re-read; the limit may be overshot by what arrives in between. */
const REFRESH_MS = 500;
const RETRY_AFTER_SECONDS = 5;

/**
 * Refuses new calls with 429 while the calls queue holds more than MAX_QUEUE_DEPTH waiting jobs,
 * so a backlog cannot grow until Redis runs out of memory. The count is read in the background,
 * never on the request path; between reads this process adds what it admitted. Several API
 * processes each see only their own admissions between reads, so the limit can be passed by what
 * the others admit within one refresh (500 ms).
 */
@Injectable()
export class BackpressureService implements OnModuleInit, OnApplicationShutdown {
  private waiting = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queues: ApiQueues,
  ) {}

  onModuleInit(): void {
    const refresh = () => {
      this.queues.waitingCalls().then(
        (n) => (this.waiting = n),
        () => undefined, // Redis down: enqueue itself answers 503.
      );
    };
    refresh();
    this.timer = setInterval(refresh, REFRESH_MS).unref();
  }

  /**
   * Throws 429 when `incoming` more calls would pass the limit; otherwise counts them as waiting
   * until the next read, so one process cannot overshoot by a refresh interval's worth of calls.
   */
  admit(incoming: number): void {
    if (this.waiting + incoming > this.config.maxQueueDepth) {
      throw new DomainError(
        ErrorCode.QueueFull,
        `the calls queue holds ${this.waiting} waiting calls (limit ${this.config.maxQueueDepth}); retry later`,
        RETRY_AFTER_SECONDS,
      );
    }
    this.waiting += incoming;
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
