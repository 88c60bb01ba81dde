export * from './pg-throttler.storage';
export * from './throttle.config';
export * from './throttle.guard';
export * from './throttle.module';
export * from './customer-caps';
export { Throttle, SkipThrottle } from '@nestjs/throttler';
export * from './trust-proxy';
