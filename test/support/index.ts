export * from './free-port';
export * from './poll';
export * from './redis-server';
export * from './endpoint';
export * from './processes';
export * from './hookrunner';
export * from './redis-cluster';
export * from './split-deployment';
