export * from './public';
export * from './internal';
