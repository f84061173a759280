export * from './http-caller';
export * from './attempt';
export * from './user-agent';
