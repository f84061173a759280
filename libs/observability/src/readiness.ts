import { Injectable } from '@nestjs/common';

/** A check a role adds to /ready: resolves to a reason when not ready, undefined when ready. */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

/** The checks behind /ready. Each role adds its own (the worker: running and not paused) when it starts. */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  /** The reason `name` is not ready, or undefined when it is. */
  async reasonNotReady(name: string): Promise<string | undefined> {
    const check = this.checks.get(name);
    if (!check) return `no check named ${name}`;
    return Promise.resolve()
      .then(check)
      .catch((err: Error) => err.message);
  }
}
