/** Nest injection tokens of channel-gateway. */
export const CHANNEL_POOL = Symbol('CHANNEL_POOL');
export const CHANNEL_STORE = Symbol('CHANNEL_STORE');
export const IMPORT_SERVICE = Symbol('IMPORT_SERVICE');
export const PROFILE_REGISTRY = Symbol('PROFILE_REGISTRY');
export const CHANNEL_METRICS = Symbol('CHANNEL_METRICS');
export const PULL_SERVICE = Symbol('PULL_SERVICE');
export const CHANNEL_CONFIG = Symbol('CHANNEL_CONFIG');
export const STOCK_PUSH = Symbol('STOCK_PUSH');
