export * from './infra';
export * from './decider-spec';
export * from './builders/orders.builders';
export * from './builders/inventory.builders';
export * from './projection-spec';
export * from './auth';
export * from './demo-token';
export * from './counted-pool';
