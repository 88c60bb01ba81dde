import { CHANNELS, ORDER_STAGES, RECIPIENT_FIELDS, type Channel, type OrderFlag, type OrderStage, type RecipientField } from '@flowline/contracts';
import { ProblemDetailsDto } from '@flowline/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { OrderPage } from '../../../application/order-queries';
import type { OrderSummary } from '../../../application/order-store.port';
import type { OrderView } from '../../../application/order-view';
import { ORDER_COMMAND_TYPES, type OrderCommandType } from '../../../domain/order.commands';

// Response shapes of the REST API, for the OpenAPI document (/docs, /docs-json). They describe
// what the controllers return (OrderView, OrderPage, the error bodies); the compile-time checks at
// the end of the file fail when a view and its class drift apart.

const ORDER_FLAGS = ['on_hold', 'exception'] as const;
const ISO = { format: 'date-time', example: '2025-11-25T08:00:00.000Z' } as const;

export class OrderTotalsDto {
  @ApiProperty({ example: 11970, description: 'Sum of quantity * unitPrice - lineDiscount over lines (fen)' }) itemsTotal!: number;
  @ApiProperty({ example: 0, description: 'fen' }) shippingFee!: number;
  @ApiProperty({ example: 970, description: 'fen taken off the whole order' }) orderDiscount!: number;
  @ApiProperty({ example: 11000, description: 'itemsTotal + shippingFee - orderDiscount: what the customer pays (fen)' }) grandTotal!: number;
  @ApiProperty({ example: 'CNY' }) currency!: string;
}

export class CustomerViewDto {
  @ApiPropertyOptional({ example: 'tb_buyer_8841' }) channelCustomerId?: string;
  @ApiPropertyOptional({ example: '小张爱买' }) nickname?: string;
  @ApiPropertyOptional({ example: '张*', description: 'Masked; the full name never leaves order-intake' }) nameMasked?: string;
  @ApiPropertyOptional({ example: '138****5678', description: 'Masked' }) phoneMasked?: string;
  @ApiPropertyOptional({ example: 'zhangsan@example.com' }) email?: string;
  @ApiProperty({ type: [String], example: ['vip'] }) tags!: string[];
}

export class AddressViewDto {
  @ApiProperty({ example: '浙江省' }) province!: string;
  @ApiProperty({ example: '杭州市' }) city!: string;
  @ApiProperty({ example: '余杭区' }) district!: string;
  @ApiPropertyOptional({ example: '文一西路****', description: 'Masked beyond the district' }) streetMasked?: string;
  @ApiPropertyOptional({ example: '311100' }) postalCode?: string;
  @ApiPropertyOptional({ example: '张*' }) recipientMasked?: string;
  @ApiPropertyOptional({ example: '138****5678' }) phoneMasked?: string;
}

export class OrderLineViewDto {
  @ApiProperty({ example: 'L1' }) lineId!: string;
  @ApiProperty({ example: 'PHONE-CASE-01' }) sku!: string;
  @ApiProperty({ example: '手机壳' }) title!: string;
  @ApiProperty({ example: 3 }) quantity!: number;
  @ApiProperty({ example: 3990, description: 'fen per unit' }) unitPrice!: number;
  @ApiProperty({ example: 0, description: 'fen taken off this line' }) lineDiscount!: number;
  @ApiPropertyOptional({ example: 'accessory', description: 'Flow rules read it (e.g. custom)' }) category?: string;
}

export class HoldDto {
  @ApiProperty({ example: '核实收货人' }) reason!: string;
  @ApiPropertyOptional({ example: 'hold-blocked-customer', description: 'Set when a flow rule held the order' }) ruleId?: string;
  @ApiProperty(ISO) since!: string;
}

export class ExceptionDto {
  @ApiProperty({ example: 'STOCK_SHORTAGE', description: 'STOCK_SHORTAGE, RESERVATION_TIMEOUT, AUDIT_BLOCKED, SHIPPED_AFTER_REFUND_REQUEST, ...' }) code!: string;
  @ApiProperty({ example: 'stock short for PHONE-CASE-01' }) reason!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { missing: [{ sku: 'PHONE-CASE-01', requested: 3, available: 1 }] } }) details?: Record<string, unknown>;
  @ApiProperty(ISO) since!: string;
}

export class PaymentDto {
  @ApiProperty({ example: 11000, description: 'fen' }) amount!: number;
  @ApiProperty({ example: 'CNY' }) currency!: string;
  @ApiPropertyOptional({ example: '2025112522001412345678' }) paymentRef?: string;
  @ApiProperty({ ...ISO, description: 'When Flowline recorded the payment' }) paidAt!: string;
  @ApiPropertyOptional({ ...ISO, description: 'When the customer paid, as the platform or payment provider reported it (the paidAt of ConfirmPayment); absent when none was reported' })
  reportedPaidAt?: string;
}

export class PendingRefundDto {
  @ApiProperty({ example: 11000, description: 'fen' }) amount!: number;
  @ApiProperty({ example: '不想要了' }) reason!: string;
  @ApiProperty(ISO) requestedAt!: string;
}

export class RefundDto {
  @ApiProperty({ type: () => PendingRefundDto, nullable: true, description: 'A refund requested and not yet confirmed by finance' }) pending!: PendingRefundDto | null;
  @ApiProperty({ example: 0, description: 'fen paid back so far' }) refundedTotal!: number;
}

export class ApprovalDto {
  @ApiProperty({ example: 'custom-order' }) chain!: string;
  @ApiProperty({ enum: ['pending', 'granted', 'rejected'] }) status!: 'pending' | 'granted' | 'rejected';
  @ApiProperty({ example: 'approval-large-or-custom' }) ruleId!: string;
  @ApiProperty({ example: '2025.11.1' }) ruleSetVersion!: string;
}

export class FulfillmentDto {
  @ApiProperty({ enum: ['normal', 'high'] }) priority!: 'normal' | 'high';
  @ApiProperty() freeShipping!: boolean;
  @ApiProperty() requiresQc!: boolean;
  @ApiProperty(ISO) releasedAt!: string;
}

export class ShipmentDto {
  @ApiProperty({ example: 'SHP-01' }) shipmentId!: string;
  @ApiPropertyOptional({ example: 'SF1234567890' }) waybillNo?: string;
  @ApiPropertyOptional({ example: 'SF' }) carrier?: string;
  @ApiPropertyOptional({ example: 'SF1234567890' }) trackingNumber?: string;
  @ApiPropertyOptional(ISO) deliveredAt?: string;
}

export class CancellationDto {
  @ApiProperty({ example: '买家要求取消' }) reason!: string;
  @ApiProperty({ enum: ORDER_STAGES }) stageAtCancel!: OrderStage;
  @ApiProperty(ISO) cancelledAt!: string;
}

export class RuleDecisionDto {
  @ApiProperty({ example: 'approval-large-or-custom' }) ruleId!: string;
  @ApiProperty({ example: '2025.11.1' }) ruleSetVersion!: string;
  @ApiProperty({ example: 'require_approval' }) decision!: string;
  @ApiProperty(ISO) decidedAt!: string;
}

/** One order as GET /api/orders/{id} and every write return it (personal data masked, money in fen). */
/** Recipient fields the platform hid; the recipient is resolved through the platform, never guessed. */
export class RecipientProtectionViewDto {
  @ApiProperty({ enum: RECIPIENT_FIELDS, isArray: true, description: 'Shown partly by the platform' }) masked!: RecipientField[];
  @ApiProperty({ enum: RECIPIENT_FIELDS, isArray: true, description: "Ciphertext only the platform's decrypt API opens" }) encrypted!: RecipientField[];
  @ApiProperty({ enum: RECIPIENT_FIELDS, isArray: true, description: 'Not given by the platform' }) withheld!: RecipientField[];
  @ApiPropertyOptional({ example: 'oaid_1a2b3c', description: "The platform's open address id" }) oaid?: string;
}

export class OrderViewDto {
  @ApiProperty({ example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X', description: 'Made by the server (ULID)' }) orderId!: string;
  @ApiProperty({ enum: CHANNELS }) channel!: Channel;
  @ApiProperty({ example: '3318459620112233445' }) channelOrderId!: string;
  @ApiProperty({ example: 'tmall-flagship' }) shopId!: string;
  @ApiProperty({ enum: ORDER_STAGES, description: 'Where the order is in its journey' }) stage!: OrderStage;
  @ApiProperty({ enum: ORDER_FLAGS, isArray: true, description: 'Flags that stop the order without changing its stage' }) flags!: OrderFlag[];
  @ApiProperty({ type: () => HoldDto, nullable: true }) hold!: HoldDto | null;
  @ApiProperty({ type: () => ExceptionDto, nullable: true }) exception!: ExceptionDto | null;
  @ApiProperty({ type: () => CustomerViewDto }) customer!: CustomerViewDto;
  @ApiProperty({ type: () => AddressViewDto }) shippingAddress!: AddressViewDto;
  @ApiProperty({ type: () => [OrderLineViewDto] }) lines!: OrderLineViewDto[];
  @ApiProperty({ type: () => OrderTotalsDto, description: 'Computed by the server' }) totals!: OrderTotalsDto;
  @ApiPropertyOptional({ example: '请尽快发货' }) buyerMessage?: string;
  @ApiPropertyOptional({ example: '赠品：手机支架' }) sellerRemark?: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: [String], description: 'References of attached files (e.g. design drawings)' }) attachments!: string[];
  @ApiProperty(ISO) placedAt!: string;
  @ApiPropertyOptional({ type: () => RecipientProtectionViewDto, description: 'Present when the platform hid recipient fields: resolve the recipient through the platform (decrypt API / oaid)' })
  recipientProtection?: RecipientProtectionViewDto;
  @ApiProperty({ ...ISO, description: 'Time of the last change' }) updatedAt!: string;
  @ApiProperty({ example: 3, description: 'Stream revision; also the ETag ("3"): send it back as If-Match' }) revision!: number;
  @ApiProperty({ type: () => PaymentDto, nullable: true }) payment!: PaymentDto | null;
  @ApiProperty({ type: () => RefundDto }) refund!: RefundDto;
  @ApiProperty({ type: () => ApprovalDto, nullable: true }) approval!: ApprovalDto | null;
  @ApiProperty({ type: () => FulfillmentDto, nullable: true, description: 'Set once released to the warehouse' }) fulfillment!: FulfillmentDto | null;
  @ApiProperty({ type: () => ShipmentDto, nullable: true }) shipment!: ShipmentDto | null;
  @ApiProperty({ type: () => CancellationDto, nullable: true }) cancellation!: CancellationDto | null;
  @ApiProperty({ type: () => [RuleDecisionDto], description: 'Flow-rule decisions: which rule of which rule-set version decided what' }) decisions!: RuleDecisionDto[];
  @ApiProperty({ enum: ORDER_COMMAND_TYPES, isArray: true, description: 'Commands the transition table allows in this stage (flags and guards may still refuse)' })
  allowedCommands!: OrderCommandType[];
}

/** A row of GET /api/orders: the orders read table. */
export class OrderSummaryDto {
  @ApiProperty({ example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' }) orderId!: string;
  @ApiProperty({ enum: CHANNELS }) channel!: Channel;
  @ApiProperty({ example: '3318459620112233445' }) channelOrderId!: string;
  @ApiProperty({ example: 'tmall-flagship' }) shopId!: string;
  @ApiProperty({ enum: ORDER_STAGES }) stage!: OrderStage;
  @ApiProperty() onHold!: boolean;
  @ApiProperty() inException!: boolean;
  @ApiProperty({ example: 11000, description: 'fen' }) grandTotal!: number;
  @ApiProperty({ example: 'CNY' }) currency!: string;
  @ApiProperty(ISO) placedAt!: string;
  @ApiProperty(ISO) updatedAt!: string;
  @ApiProperty({ example: 3, description: 'Stream revision (the ETag of GET /api/orders/{id})' }) revision!: number;
  @ApiProperty({ ...ISO, description: 'Since when the order could move on (stage entered, hold released, exception resolved)' }) movableSince!: string;
  @ApiProperty({ description: 'Stock reserved for every line' }) reserved!: boolean;
}

/** GET /api/orders: one page, newest first. */
export class OrderPageDto {
  @ApiProperty({ type: () => [OrderSummaryDto] }) orders!: OrderSummaryDto[];
  @ApiProperty({ type: String, nullable: true, example: 'eyJiZWZvcmUiOiIwMUpER1o2TTNWOFEifQ', description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor!: string | null;
}

/** 400 (application/problem+json): the body, query or a header broke a rule; errors[] names every offending field. */
export class ValidationErrorDto extends ProblemDetailsDto {}

/**
 * 404 / 409 / 412 / 422 (application/problem+json): a refused command or request, with a stable code
 * (src/domain/order.errors.ts, ORDER_VERSION_MISMATCH, IDEMPOTENCY_KEY_REUSED, INVALID_CURSOR, ...).
 */
export class DomainErrorDto extends ProblemDetailsDto {}

/** 412: If-Match no longer holds; `details.actual` is the current revision. */
export class VersionMismatchDetailsDto {
  @ApiProperty({ example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' }) orderId!: string;
  @ApiProperty({ example: 2 }) expected!: number;
  @ApiProperty({ example: 3 }) actual!: number;
}

/** 412 (application/problem+json), code ORDER_VERSION_MISMATCH. */
export class VersionMismatchErrorDto extends ProblemDetailsDto {
  @ApiProperty({ type: () => VersionMismatchDetailsDto }) declare details: VersionMismatchDetailsDto & Record<string, unknown>;
}

// Compile-time: the documented shapes are exactly what the API returns.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewMatches: Same<OrderViewDto, OrderView> = true;
const summaryMatches: Same<OrderSummaryDto, OrderSummary> = true;
const pageMatches: Same<OrderPageDto, OrderPage> = true;
void [viewMatches, summaryMatches, pageMatches];
