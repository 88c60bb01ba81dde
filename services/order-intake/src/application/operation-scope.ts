import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The operation a piece of work belongs to (`PlaceOrder`, `ConfirmPayment`, `pm:StockReserved`),
 * carried across awaits so infra can count what it costs (database round trips per command,
 * infra/db-query-counter.ts) without the application passing it down every call.
 */
const scope = new AsyncLocalStorage<string>();

export function inOperation<T>(operation: string, work: () => Promise<T>): Promise<T> {
  return scope.run(operation, work);
}

/** The operation running now, or undefined (relay, consumer bookkeeping, timers). */
export function currentOperation(): string | undefined {
  return scope.getStore();
}
