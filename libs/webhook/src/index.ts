export * from './merge-tags';
export * from './build-request';
export * from './validate-reply';
export * from './classify-outcome';
export * from './backoff';
export * from './inspect-json';
