/**
 * What users of Hookrunner see: the API's request and response types, the events and error
 * types, and the channel and stream names. A client imports this part only.
 */
export * from './webhook-definition';
export * from './webhook-response';
export * from './calls';
export * from './events';
export * from './identifiers';
export * from './channels';
export * from './errors';
