export * from './partition';
export * from './origin';
export * from './fair-priority';
export * from './fair-share';
export * from './deferral';
export * from './circuit';
export * from './origin-failure';
