export * from './ssrf';
export * from './guarded-agent';
export * from './signing';
export * from './secrets';
export * from './api-keys';
