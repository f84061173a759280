import { CallErrorType, type CallEvent, type CallResultJob } from '@hookrunner/contracts';
import { renderMergeTags } from '@hookrunner/webhook';

export interface MergedState {
  memory: Record<string, unknown>;
  profile: Record<string, unknown>;
  /** Set when the reply would have grown that store past MAX_STATE_FIELDS: nothing was merged. */
  rejected?: 'memory' | 'profile';
}

/** The result as it ends when its merge was refused: failed, as an invalid response, nothing merged. */
export function refusedResult(result: CallResultJob, store: 'memory' | 'profile', maxFields: number): CallResultJob {
  const where =
    store === 'memory'
      ? `the session memory of ${result.userId}/${result.sessionId}`
      : `the profile of ${result.userId}`;
  return {
    ...result,
    outcome: 'failed',
    reply: undefined,
    error: {
      type: CallErrorType.InvalidResponse,
      message: `the reply would leave ${where} with more than ${maxFields} keys; nothing was merged`,
    },
  };
}

/**
 * The event for a finished call. Merge tags in responses and quick replies are rendered from the
 * merged state, overlaid by what the platform passed at enqueue, overlaid by what the webhook
 * returned (a `null` it returned removes the key): the freshest value wins.
 */
export function buildEvent(result: CallResultJob, merged: MergedState): CallEvent {
  const reply = result.reply;
  const changes = { memory: reply?.memory ?? {}, userAttributes: reply?.user_attributes ?? {} };
  const ctx = {
    memory: overlay({ ...merged.memory, ...result.memory }, changes.memory),
    user: overlay({ ...merged.profile, ...result.user }, changes.userAttributes),
  };
  const event: CallEvent = {
    type: result.outcome === 'succeeded' ? 'call.succeeded' : 'call.failed',
    callId: result.callId,
    botId: result.botId,
    userId: result.userId,
    sessionId: result.sessionId,
    webhook: result.webhook,
    responses: (reply?.responses ?? []).map((line) => renderMergeTags(line, ctx)),
    quickreplies: (reply?.quickreplies ?? []).map((line) => renderMergeTags(line, ctx)),
    memory: merged.memory,
    userAttributes: merged.profile,
    changes,
    attempts: result.attempts,
    durationMs: Math.max(0, result.finishedAt - result.enqueuedAt),
    finishedAt: new Date(result.finishedAt).toISOString(),
  };
  if (result.error) event.error = result.error;
  return event;
}

function overlay(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}
