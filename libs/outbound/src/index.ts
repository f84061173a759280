export * from './http-caller';
export * from './attempt';
export * from './user-agent';
export * from './signing-secrets';
export * from './prepare-request';
export * from './webhook-sender';
export * from './webhook-sender.provider';
