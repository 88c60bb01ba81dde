export * from './envelope-error';
export * from './event-registry';
export * from './flowline-contracts';
