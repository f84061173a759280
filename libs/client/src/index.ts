export { HookrunnerClient, type EnqueueResult, type HookrunnerClientOptions } from './client';
export { HookrunnerApiError } from './errors';
export type { RetryOptions } from './retry';
export { ErrorCode, EVENTS_STREAM, eventsChannel } from './contracts';
export type { SubscribeOptions, Subscription } from './subscribe';
export * from './types';
export type { components, paths } from './generated/openapi';
