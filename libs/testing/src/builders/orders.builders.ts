import type {
  CommandMetadata,
  CustomerDetails,
  InventoryEventDataMap,
  OrderLineInput,
  OrderSubmission,
  ShippingAddress,
} from '@flowline/contracts';

/**
 * Fixture builders for orders: realistic, valid defaults (a Tmall order from 杭州, ¥ in fen),
 * each field overridable. Pure; ids are deterministic unless you pass your own.
 */

export const FIXED_NOW = '2025-11-25T08:00:00.000Z';

export function aCustomer(overrides: Partial<CustomerDetails> = {}): CustomerDetails {
  return { channelCustomerId: 'tb_buyer_8841', nickname: '小张爱买', name: '张三', phone: '13812345678', tags: [], ...overrides };
}

export function anAddress(overrides: Partial<ShippingAddress> = {}): ShippingAddress {
  return {
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    street: '文三路',
    detail: '478号 华星时代广场 A 座 1201',
    postalCode: '310013',
    recipient: '张三',
    phone: '13812345678',
    ...overrides,
  };
}

export function aLine(overrides: Partial<OrderLineInput> = {}): OrderLineInput {
  return { lineId: 'L1', sku: 'TEA-LJ-250', title: '西湖龙井 250g', quantity: 2, unitPrice: 12800, lineDiscount: 0, category: 'tea', ...overrides };
}

/** Lines get ids L1..Ln unless the override names them. */
export function lines(...specs: Partial<OrderLineInput>[]): OrderLineInput[] {
  return specs.map((s, i) => aLine({ lineId: `L${i + 1}`, ...s }));
}

/** A valid order submission: 2 x ¥128.00 tea + ¥10.00 shipping - ¥6.00 discount = ¥260.00 (26000 fen). */
export function anOrderSubmission(overrides: Partial<OrderSubmission> = {}): OrderSubmission {
  return {
    channel: 'tmall',
    channelOrderId: '3318459620112233445',
    shopId: 'tmall-flagship',
    customer: aCustomer(),
    shippingAddress: anAddress(),
    lines: [aLine()],
    shippingFee: 1000,
    orderDiscount: 600,
    currency: 'CNY',
    buyerMessage: '请尽快发货',
    tags: [],
    attachments: [],
    placedAt: '2025-11-25T07:59:00.000Z',
    ...overrides,
  };
}

/** Grand total of a submission the way the server computes it (for assertions and payments). */
export function grandTotalOf(o: Pick<OrderSubmission, 'lines' | 'shippingFee' | 'orderDiscount'>): number {
  return o.lines.reduce((s, l) => s + l.quantity * l.unitPrice - l.lineDiscount, 0) + o.shippingFee - o.orderDiscount;
}

let seq = 0;
/** Command metadata with a fixed clock; commandId/correlationId unique per call unless given. */
export function commandMetadata(overrides: Partial<CommandMetadata> = {}): CommandMetadata {
  seq += 1;
  return { commandId: `cmd-${seq}`, correlationId: `corr-${seq}`, causationId: null, now: FIXED_NOW, ...overrides };
}

/** Inventory's StockReserved for every line of an order, from one warehouse. */
export function stockReservedFor(orderId: string, orderLines: readonly OrderLineInput[], warehouseId = 'WH-HZ-01'): InventoryEventDataMap['StockReserved'] {
  return {
    orderId,
    reservationId: `res-${orderId}`,
    allocations: orderLines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId, quantity: l.quantity })),
  };
}

/** Inventory's StockShortage for the given lines (nothing available). */
export function stockShortageFor(orderId: string, orderLines: readonly OrderLineInput[]): InventoryEventDataMap['StockShortage'] {
  return { orderId, missing: orderLines.map((l) => ({ sku: l.sku, requested: l.quantity, available: 0 })) };
}
