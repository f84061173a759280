import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { RESULT_MARKER_TTL_SECONDS, type CallResultJob, type StateChanges } from '@hookrunner/contracts';
import { stateMergeSeconds } from '@hookrunner/observability';
import { decodeFields, encodeChanges, keys, MAX_STATE_FIELDS, type RedisClient, STATE_REDIS } from '@hookrunner/redis';
import type { MergedState } from './build-event';

/**
 * Merges what a call returned into the session memory and the profile in one Lua script: atomic
 * (two calls finishing at once keep each other's keys) and once per call (a replay returns the
 * state the first run produced and writes nothing). A reply that would leave either with more than
 * MAX_STATE_FIELDS keys merges nothing and comes back `rejected`.
 */
@Injectable()
export class StateMergeService {
  constructor(
    @Inject(STATE_REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async apply(result: CallResultJob): Promise<MergedState> {
    return this.merge(result, keys.applied(result.botId, result.userId, result.callId, result.run), {
      memory: result.reply?.memory ?? {},
      userAttributes: result.reply?.user_attributes ?? {},
    });
  }

  /**
   * Merges `changes` into the user's session and profile once per `appliedKey` (the marker: a
   * call's run, or a turn).
   */
  async merge(
    target: Pick<CallResultJob, 'botId' | 'userId' | 'sessionId'>,
    appliedKey: string,
    changes: StateChanges,
  ): Promise<MergedState> {
    const started = performance.now();
    const memory = encodeChanges(changes.memory);
    const profile = encodeChanges(changes.userAttributes);
    const raw = await this.redis.hookrunnerMergeState(
      keys.session(target.botId, target.userId, target.sessionId),
      keys.profile(target.botId, target.userId),
      appliedKey,
      this.config.state.sessionTtlSeconds,
      RESULT_MARKER_TTL_SECONDS,
      MAX_STATE_FIELDS,
      memory.length / 2,
      ...memory,
      profile.length / 2,
      ...profile,
    );
    stateMergeSeconds.observe((performance.now() - started) / 1000);
    // cjson encodes an empty Lua table as {} rather than [].
    const state = JSON.parse(raw) as {
      memory: string[] | object;
      profile: string[] | object;
      rejected?: 'memory' | 'profile';
    };
    const merged: MergedState = {
      memory: decodeFields(asArray(state.memory)),
      profile: decodeFields(asArray(state.profile)),
    };
    if (state.rejected) merged.rejected = state.rejected;
    return merged;
  }
}

function asArray(value: string[] | object): string[] {
  return Array.isArray(value) ? (value as string[]) : [];
}
