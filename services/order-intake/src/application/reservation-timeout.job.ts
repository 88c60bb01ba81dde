import { isDomainError } from '@flowline/domain';
import { awaitingStock, dueReservationTimeouts } from '../domain/policies/order-process.policy';
import type { ChangeOrderHandler } from './change-order.handler';
import type { OrderStore } from './order-store.port';

/**
 * One pass of the reservation timer: orders paid but not reserved within `timeoutMs` go to
 * exception RESERVATION_TIMEOUT. The read table finds candidates; each is re-checked on its
 * stream and flagged with the revision it was checked at, so a reservation landing in between
 * wins. The command id is derived from the order and its waiting-since time: several scheduler
 * replicas flag an order once.
 */
export class ReservationTimeoutJob {
  constructor(
    private readonly store: OrderStore,
    private readonly changes: ChangeOrderHandler,
    private readonly timeoutMs: number,
    private readonly batchSize = 100,
  ) {}

  /** Returns the ids of the orders it flagged. */
  async runOnce(now: string): Promise<string[]> {
    const before = new Date(Date.parse(now) - this.timeoutMs).toISOString();
    const candidates = await this.store.awaitingStockSince(before, this.batchSize);
    const flagged: string[] = [];
    for (const row of candidates) {
      const loaded = await this.store.load(row.orderId);
      const waiting = awaitingStock(loaded.state);
      if (!waiting || loaded.revision === 'no_stream') continue;
      for (const command of dueReservationTimeouts([waiting], now, this.timeoutMs)) {
        if (command.type !== 'FlagException') continue;
        try {
          await this.changes.execute(
            {
              ...command,
              metadata: {
                commandId: `reservation-timeout:${waiting.orderId}:${waiting.movableSince}`,
                correlationId: waiting.orderId,
                causationId: null,
                now,
                actor: { kind: 'service', id: 'order-intake.reservation-timer', role: 'system' },
              },
            },
            { loaded, retryOnConflict: false },
          );
          flagged.push(waiting.orderId);
        } catch (error) {
          // Moved on meanwhile (reserved, held, flagged by another replica): nothing to do.
          if (!isDomainError(error)) throw error;
        }
      }
    }
    return flagged;
  }
}
