import type { components } from './generated/openapi';

/** Every schema of the API, generated from its OpenAPI document. */
export type Schemas = components['schemas'];

/** A finished call, as published (`call.succeeded` or `call.failed`). */
export type CallEvent = Schemas['CallEvent'];
export type CallSucceededEvent = CallEvent & { type: 'call.succeeded' };
export type CallFailedEvent = CallEvent & { type: 'call.failed'; error: Schemas['CallError'] };

/** A turn whose calls have all ended (`turn.completed`). */
export type TurnCompletedEvent = Schemas['TurnCompletedEvent'];

/** What a bot's channel and the stream carry, discriminated by `type`. */
export type HookrunnerEvent = CallSucceededEvent | CallFailedEvent | TurnCompletedEvent;

export type EnqueueCall = Schemas['EnqueueCall'];
export type CallAccepted = Schemas['CallAccepted'];
export type CallFinished = Schemas['CallFinished'];
export type WebhookDefinition = Schemas['WebhookDefinition'];
export type CreateWebhook = Schemas['CreateWebhook'];
export type ReplaceWebhook = Schemas['ReplaceWebhook'];
export type TestWebhook = Schemas['TestWebhook'];
export type WebhookTestReport = Schemas['WebhookTestReport'];
export type CallView = Schemas['CallView'];
export type FailedPage = Schemas['FailedPage'];
export type CallRetried = Schemas['CallRetried'];
export type BatchResult = Schemas['BatchResult'];
export type EnqueueTurn = Schemas['EnqueueTurn'];
export type TurnAccepted = Schemas['TurnAccepted'];
export type TurnFinished = Schemas['TurnFinished'];
export type ErrorBody = Schemas['ErrorBody'];

/** The key each event is deduplicated by: the call and which of its runs ended, or the turn. */
export function eventKey(event: HookrunnerEvent): string {
  if (event.type === 'turn.completed') return `${event.type}:${event.turnId}`;
  return `${event.type}:${event.callId}:${event.finishedAt}`;
}
