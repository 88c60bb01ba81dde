import type { InvoiceView, OrderChangeDiff } from '../approval/approval.messages';

/**
 * Commands to order-intake on `orders.commands.v1` (keyed by orderId). The topic is PRIVATE to
 * order-intake: these commands carry clear personal data and are read by no one else.
 */

/** A new shipping address for an order: street, detail and postal code replace the order's; recipient and phone stay when absent. */
export interface AddressPatch {
  province: string;
  city: string;
  district: string;
  street: string;
  detail?: string;
  postalCode?: string;
  recipient?: string;
  phone?: string;
}

/** Invoice information in full (发票抬头, 税号). */
export interface Invoice {
  type: InvoiceView['type'];
  title: string;
  taxId?: string;
  email?: string;
}

export interface OrderCommandDataMap {
  /**
   * A fully approved change request whose diff holds personal data (address, invoice): applied to
   * the order as ONE OrderChanged, exactly like approval's public ChangeApproved (same ids, diff,
   * change reservation and allocations, freeze override) plus the clear values.
   */
  ApplyOrderChange: {
    orderId: string;
    approvalId: string;
    changeRequestId: string;
    diff: OrderChangeDiff;
    reservationId?: string;
    allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[];
    freezeOverride?: { shipmentIds: string[]; by: string; reason: string };
    shippingAddress?: AddressPatch;
    shippingMethod?: string;
    invoice?: Invoice;
  };
}

export type OrderCommandType = keyof OrderCommandDataMap;
export const ORDER_COMMAND_TYPES = ['ApplyOrderChange'] as const satisfies readonly OrderCommandType[];
