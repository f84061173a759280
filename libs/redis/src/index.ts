export * from './keys';
export * from './scripts';
export * from './connections';
export * from './state';
export * from './redis.module';
export * from './queues';
export * from './bot-stats';
export * from './circuit-store';
