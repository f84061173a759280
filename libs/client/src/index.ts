export { HookrunnerClient, type EnqueueResult, type HookrunnerClientOptions } from './client';
export { HookrunnerApiError } from './errors';
export type { RetryOptions } from './retry';
export { EVENTS_STREAM, eventsChannel, type SubscribeOptions, type Subscription } from './subscribe';
export * from './types';
export type { components, paths } from './generated/openapi';
