export * from './config';
export * from './principal';
export * from './verifier';
export * from './policy';
export * from './scope';
export * from './decorators';
export * from './guard';
export * from './token-source';
