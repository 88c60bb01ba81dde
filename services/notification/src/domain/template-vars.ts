import type { OrderFacts, TriggerEvent } from './notification.types';
import { yuanFromFen, type TemplateVars } from './templates';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function missingText(v: unknown): string | undefined {
  if (!Array.isArray(v)) return undefined;
  return v
    .map((m: { sku?: unknown; requested?: unknown; available?: unknown }) => `${str(m.sku) ?? '?'} ${str(m.requested) ?? '?'}/${str(m.available) ?? '?'}`)
    .join(', ');
}

/** Template variables for an event about an order (pure). Money is given in yuan, from the order's fen. */
export function templateVars(event: TriggerEvent, facts: OrderFacts | undefined, extra: TemplateVars = {}): TemplateVars {
  const d = event.data;
  const amountFen = typeof d.amount === 'number' ? d.amount : typeof d.grandTotal === 'number' ? d.grandTotal : facts?.grandTotal;
  return {
    orderId: str(d.orderId) ?? facts?.orderId,
    channelOrderId: facts?.channelOrderId ?? str(d.orderId),
    amount: amountFen === undefined ? undefined : yuanFromFen(amountFen),
    currency: str(d.currency) ?? facts?.currency ?? 'CNY',
    itemCount: facts?.itemCount ?? 0,
    firstTitle: facts?.firstTitle ?? '',
    customerName: facts?.customerNameMasked ?? '',
    carrier: str(d.carrier) ?? facts?.carrier ?? undefined,
    trackingNumber: str(d.trackingNumber) ?? facts?.trackingNumber ?? undefined,
    paidAt: str(d.reportedPaidAt) ?? str(d.paidAt) ?? event.occurredAt,
    deliveredAt: str(d.deliveredAt) ?? event.occurredAt,
    at: event.occurredAt,
    dueAt: str(d.dueAt),
    expireAt: str(d.expireAt),
    chain: str(d.chain),
    step: str(d.step) ?? (Array.isArray(d.steps) ? str(d.steps[0]) : undefined),
    reason: str(d.reason),
    description: str(d.description),
    code: str(d.code),
    missing: missingText(d.missing),
    // Tracking's SLA alerts (OrderSlaTurnedYellow / Red, OrderStuck).
    stage: str(d.stage),
    segment: str(d.segment),
    slaDueAt: str(d.slaDueAt),
    stageEnteredAt: str(d.stageEnteredAt),
    ...extra,
  };
}
