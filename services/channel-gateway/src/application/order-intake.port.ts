import type { OrderSubmission } from '@flowline/contracts';

/** order-intake refused a command (HTTP 4xx with its domain code): the order is left as it is. */
export class OrderCommandRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OrderCommandRefused';
  }
}

/** A payment as order-intake takes it (integer fen). */
export interface PaymentBody {
  amount: number;
  currency: string;
  paymentRef: string;
  /** When the buyer paid, per the platform (order-intake's reportedPaidAt). */
  paidAt?: string;
}

/** order-intake's answer to PlaceOrder, as much of it as channel-gateway uses. */
export interface PlacedOrder {
  orderId: string;
  created: boolean;
  paidTotal: number | null;
  grandTotal: number;
}

/**
 * order-intake's public command API as channel-gateway uses it. Every call carries an
 * Idempotency-Key derived from (channel, channel order id, step), so a repeated import or a resumed
 * run replays the first answer instead of applying a step twice.
 */
export interface OrderIntakePort {
  /**
   * `person`: the order went in because a person fixed it (quarantine): their own bearer token (`bearer`)
   * goes with the call, so order-intake records them as the command's actor (issue #16)
   * (a user), so the order counts as manually ingested downstream (tracking's auto-ingest rate).
   */
  /**
   * `payment`: the order arrives paid; order-intake places and pays it in one commit (refusing both
   * when it refuses the payment). With `created` false the order existed and is returned as it
   * stands (this payment not applied): `paidTotal` is what it has been paid so far (null: no
   * payment recorded), `grandTotal` what it costs.
   */
  place(submission: OrderSubmission, idempotencyKey: string, person?: { id: string; role?: string; bearer?: string }, payment?: PaymentBody): Promise<PlacedOrder>;
  confirmPayment(orderId: string, body: PaymentBody, idempotencyKey: string): Promise<void>;
  cancel(orderId: string, reason: string, idempotencyKey: string): Promise<void>;
  /** Puts the order on hold (it keeps its stage and stops moving on until a person releases it). */
  hold(orderId: string, reason: string, idempotencyKey: string): Promise<void>;
  requestRefund(orderId: string, amount: number, reason: string, idempotencyKey: string): Promise<void>;
  confirmRefund(orderId: string, amount: number, idempotencyKey: string): Promise<void>;
}
