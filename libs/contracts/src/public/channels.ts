/**
 * Where a bot engine hears about finished calls. These names are part of the public contract:
 * never change them once shipped.
 */

/** Pub/sub channel of one bot's events (a channel, not a key: it has no hash slot). */
export const eventsChannel = (botId: string) => `hookrunner:events:${botId}`;

/** The durable stream every event is appended to (fields `type`, `botId`, `callId`, `event`). */
export const EVENTS_STREAM = 'hookrunner:events';
