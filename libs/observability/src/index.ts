export * from './metrics';
export * from './queue-metrics';
export * from './redis-watch';
export * from './readiness';
export * from './observability.module';
export * from './http-app';
