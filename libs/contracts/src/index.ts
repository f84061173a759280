export * from './queues';
export * from './webhook-definition';
export * from './webhook-response';
export * from './jobs';
export * from './events';
export * from './identifiers';
export * from './calls';
