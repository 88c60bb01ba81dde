/**
 * Order bodies for the system workloads: the same JSON goes to Flowline's POST /api/orders and to
 * the baseline's (it accepts Flowline's submission body). Realistic size (customer, address, PII,
 * two lines), totals well below the approval threshold so the default rules send a paid and
 * reserved order straight to ready_to_ship.
 */

import type { orderIntakeApi } from '@flowline/clients';

/** POST /api/orders' body as order-intake's OpenAPI document defines it (generated types). */
export type PlaceOrderBody = orderIntakeApi.components['schemas']['PlaceOrderDto'];

export interface BenchOrder {
  body: PlaceOrderBody;
  grandTotal: number;
  idempotencyKey: string;
}

export interface OrderShape {
  /** Unique per bench run: channel order ids and idempotency keys must never repeat across runs. */
  runId: string;
  /** SKUs to draw lines from; one SKU (hot SKU) puts every line on it. */
  skus: readonly string[];
  /** Lines per order (1 or 2 distinct SKUs when there are enough). */
  lines?: number;
}

const PROVINCES = [
  ['浙江省', '杭州市', '西湖区'],
  ['广东省', '深圳市', '南山区'],
  ['北京市', '北京市', '朝阳区'],
  ['上海市', '上海市', '浦东新区'],
] as const;

export function benchOrder(i: number, shape: OrderShape): BenchOrder {
  const lines = Math.max(1, Math.min(shape.lines ?? 2, shape.skus.length));
  const [province, city, district] = PROVINCES[i % PROVINCES.length];
  const orderLines = Array.from({ length: lines }, (_, n) => ({
    lineId: `L${n + 1}`,
    sku: shape.skus[(i * lines + n) % shape.skus.length],
    title: `测试商品 ${n + 1}`,
    quantity: 1,
    unitPrice: 1990 + n * 100,
    lineDiscount: 0,
  }));
  const shippingFee = 800;
  const grandTotal = orderLines.reduce((s, l) => s + l.quantity * l.unitPrice - l.lineDiscount, 0) + shippingFee;
  const channelOrderId = `${shape.runId}-${i}`;
  return {
    idempotencyKey: `bench-${shape.runId}-${i}`,
    grandTotal,
    body: {
      channel: 'tmall',
      channelOrderId,
      shopId: 'bench-shop',
      customer: { channelCustomerId: `buyer-${i % 5000}`, name: '张三', phone: '13812345678', tags: [] },
      shippingAddress: { province, city, district, street: '文三路 478 号', detail: '华星时代广场 A 座 1201', postalCode: '310013', recipient: '张三', phone: '13812345678' },
      lines: orderLines,
      shippingFee,
      orderDiscount: 0,
      currency: 'CNY',
      grandTotal,
      buyerMessage: '请尽快发货',
    },
  };
}

/** A run id: time-sortable, short, unique enough across runs on one machine. */
export function newRunId(): string {
  return `b${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}
