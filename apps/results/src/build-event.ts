import {
  CallErrorType,
  type CallEvent,
  type CallResultJob,
  type StateOverlays,
  type TurnCompletedEvent,
  type TurnPart,
} from '@hookrunner/contracts';
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
  const ctx = renderContext(result, merged, changes);
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
  if (result.turn) event.turnId = result.turn.turnId;
  return event;
}

/** What a call's ended turn is kept as until the turn's last call ends: what its event needs. */
export function turnPart(result: CallResultJob): TurnPart {
  const reply = result.reply;
  const part: TurnPart = {
    callId: result.callId,
    webhook: result.webhook,
    outcome: result.outcome,
    responses: reply?.responses ?? [],
    quickreplies: reply?.quickreplies ?? [],
    changes: { memory: reply?.memory ?? {}, userAttributes: reply?.user_attributes ?? {} },
    finishedAt: result.finishedAt,
  };
  if (result.error) part.error = result.error;
  return part;
}

/** The succeeded calls' changes in declared order: a later call wins a key both set. */
export function turnChanges(parts: TurnPart[]): TurnCompletedEvent['changes'] {
  const changes: TurnCompletedEvent['changes'] = { memory: {}, userAttributes: {} };
  for (const part of parts) {
    if (part.outcome !== 'succeeded') continue;
    Object.assign(changes.memory, part.changes.memory);
    Object.assign(changes.userAttributes, part.changes.userAttributes);
  }
  return changes;
}

/**
 * The event of a turn whose calls have all ended, `parts` in declared order. Responses and quick
 * replies are concatenated in that order and rendered, like a call's, from the state merged in that
 * order. Built only from stored parts, so a result applied again after a crash builds the same event.
 */
export function buildTurnEvent(
  result: CallResultJob & { turn: NonNullable<CallResultJob['turn']> },
  parts: TurnPart[],
  merged: MergedState,
): TurnCompletedEvent {
  const changes = turnChanges(parts);
  const ctx = renderContext(result, merged, changes);
  const succeeded = parts.filter((part) => part.outcome === 'succeeded');
  const finishedAt = Math.max(...parts.map((part) => part.finishedAt));
  return {
    type: 'turn.completed',
    turnId: result.turn.turnId,
    botId: result.botId,
    userId: result.userId,
    sessionId: result.sessionId,
    calls: parts.map(({ callId, webhook, outcome, error }) =>
      error ? { callId, webhook, outcome, error } : { callId, webhook, outcome },
    ),
    responses: succeeded.flatMap((part) => part.responses.map((line) => renderMergeTags(line, ctx))),
    quickreplies: succeeded.flatMap((part) => part.quickreplies.map((line) => renderMergeTags(line, ctx))),
    memory: merged.memory,
    userAttributes: merged.profile,
    changes,
    durationMs: Math.max(0, finishedAt - result.turn.enqueuedAt),
    finishedAt: new Date(finishedAt).toISOString(),
  };
}

function renderContext(
  overlays: StateOverlays,
  merged: MergedState,
  changes: CallEvent['changes'],
): { memory: Record<string, unknown>; user: Record<string, unknown> } {
  return {
    memory: overlay({ ...merged.memory, ...overlays.memory }, changes.memory),
    user: overlay({ ...merged.profile, ...overlays.user }, changes.userAttributes),
  };
}

function overlay(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}
