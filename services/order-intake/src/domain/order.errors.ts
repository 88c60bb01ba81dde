import { DomainError } from '@flowline/domain';

/**
 * Every refusal of the order aggregate, with its stable code. Clients and tests match on `code`;
 * `kind` picks the status: conflict -> HTTP 409 / gRPC FAILED_PRECONDITION, invalid -> 422 /
 * INVALID_ARGUMENT, not_found -> 404 / NOT_FOUND.
 */
export const OrderErrorCode = {
  NotFound: 'ORDER_NOT_FOUND',
  AlreadyExists: 'ORDER_ALREADY_EXISTS',
  IllegalTransition: 'ORDER_ILLEGAL_TRANSITION',
  OnHold: 'ORDER_ON_HOLD',
  InException: 'ORDER_IN_EXCEPTION',
  RefundPending: 'ORDER_REFUND_PENDING',
  AlreadyOnHold: 'ORDER_ALREADY_ON_HOLD',
  NotOnHold: 'ORDER_NOT_ON_HOLD',
  AlreadyInException: 'ORDER_ALREADY_IN_EXCEPTION',
  NotInException: 'ORDER_NOT_IN_EXCEPTION',
  ApprovalPending: 'ORDER_APPROVAL_PENDING',
  ApprovalNotPending: 'ORDER_APPROVAL_NOT_PENDING',
  ApprovalChainMismatch: 'ORDER_APPROVAL_CHAIN_MISMATCH',
  StockNotReserved: 'ORDER_STOCK_NOT_RESERVED',
  Invalid: 'ORDER_INVALID',
  TotalMismatch: 'ORDER_TOTAL_MISMATCH',
  AllocationInvalid: 'ORDER_ALLOCATION_INVALID',
  PaymentAmountMismatch: 'PAYMENT_AMOUNT_MISMATCH',
  PaymentCurrencyMismatch: 'PAYMENT_CURRENCY_MISMATCH',
  RefundAmountInvalid: 'REFUND_AMOUNT_INVALID',
  RefundNotRequested: 'REFUND_NOT_REQUESTED',
  RefundAmountMismatch: 'REFUND_AMOUNT_MISMATCH',
  ShipmentMismatch: 'ORDER_SHIPMENT_MISMATCH',
  /** Presale: the balance (尾款) is not due (already paid, or the order is not presale). */
  BalanceNotDue: 'ORDER_BALANCE_NOT_DUE',
  /** Presale: balance unpaid or the presale ship date not reached. */
  PresaleNotSettled: 'ORDER_PRESALE_NOT_SETTLED',
  /** The command is for a cash-on-delivery order only, or a COD payment is already recorded. */
  NotCod: 'ORDER_NOT_COD',
} as const;
export type OrderErrorCode = (typeof OrderErrorCode)[keyof typeof OrderErrorCode];

export const OrderErrors = {
  notFound: (orderId: string) => new DomainError(OrderErrorCode.NotFound, `order ${orderId} not found`, { orderId }, 'not_found'),
  alreadyExists: (orderId: string) => new DomainError(OrderErrorCode.AlreadyExists, `order ${orderId} already exists`, { orderId }),
  illegalTransition: (stage: string, command: string) =>
    new DomainError(OrderErrorCode.IllegalTransition, `${command} is not allowed when the order is ${stage}`, { stage, command }),
  onHold: (command: string, reason: string) =>
    new DomainError(OrderErrorCode.OnHold, `${command} is not allowed while the order is on hold (${reason})`, { command, reason }),
  inException: (command: string, code: string) =>
    new DomainError(OrderErrorCode.InException, `${command} is not allowed while the order is in exception (${code})`, { command, exception: code }),
  refundPending: (command: string) =>
    new DomainError(OrderErrorCode.RefundPending, `${command} is not allowed while a refund before shipment is pending`, { command }),
  invalid: (field: string, reason: string) => new DomainError(OrderErrorCode.Invalid, `${field}: ${reason}`, { field, reason }, 'invalid'),
  totalMismatch: (field: string, claimed: number, computed: number) =>
    new DomainError(
      OrderErrorCode.TotalMismatch,
      `${field}: the client total ${claimed} disagrees with the server total ${computed}`,
      { field, claimed, computed },
      'invalid',
    ),
  conflict: (code: OrderErrorCode, message: string, details: Record<string, unknown> = {}) => new DomainError(code, message, details),
  unprocessable: (code: OrderErrorCode, message: string, details: Record<string, unknown> = {}) => new DomainError(code, message, details, 'invalid'),
};
