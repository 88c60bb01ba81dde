import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from './envelope';
import { CHANNELS, ORDER_STAGES } from './orders/order.types';
import type { RuleDecisionKind } from './orders/order.events';
import { BOUNDED_CONTEXTS, contractRegistry, decodeEnvelope, type ContractEnvelope, type ContractType } from './registry';
import orderApprovalRejectedJson from '../fixtures/orders/OrderApprovalRejected.v1.json';
import orderApprovalRequiredJson from '../fixtures/orders/OrderApprovalRequired.v1.json';
import orderChangedJson from '../fixtures/orders/OrderChanged.v1.json';
import orderChangeRefusedJson from '../fixtures/orders/OrderChangeRefused.v1.json';
import orderPaymentDueJson from '../fixtures/orders/OrderPaymentDue.v1.json';
import applyOrderChangeJson from '../fixtures/orders/ApplyOrderChange.v1.json';
import orderPartialRefundRequestedJson from '../fixtures/orders/OrderPartialRefundRequested.v1.json';
import orderPartialRefundedJson from '../fixtures/orders/OrderPartialRefunded.v1.json';
import orderPiiRevealedJson from '../fixtures/orders/OrderPiiRevealed.v1.json';
import orderApprovedJson from '../fixtures/orders/OrderApproved.v1.json';
import orderArchivedJson from '../fixtures/orders/OrderArchived.v1.json';
import orderCancelledJson from '../fixtures/orders/OrderCancelled.v1.json';
import orderDeliveredJson from '../fixtures/orders/OrderDelivered.v1.json';
import orderExceptionFlaggedJson from '../fixtures/orders/OrderExceptionFlagged.v1.json';
import orderExceptionResolvedJson from '../fixtures/orders/OrderExceptionResolved.v1.json';
import orderHoldReleasedJson from '../fixtures/orders/OrderHoldReleased.v1.json';
import orderPackedJson from '../fixtures/orders/OrderPacked.v1.json';
import orderPaidJson from '../fixtures/orders/OrderPaid.v1.json';
import orderPlacedJson from '../fixtures/orders/OrderPlaced.v1.json';
import orderPutOnHoldJson from '../fixtures/orders/OrderPutOnHold.v1.json';
import orderReadyToShipJson from '../fixtures/orders/OrderReadyToShip.v1.json';
import orderRefundRequestedJson from '../fixtures/orders/OrderRefundRequested.v1.json';
import orderRefundedJson from '../fixtures/orders/OrderRefunded.v1.json';
import orderRuleDecidedJson from '../fixtures/orders/OrderRuleDecided.v1.json';
import orderShippedJson from '../fixtures/orders/OrderShipped.v1.json';
import orderStockReservedJson from '../fixtures/orders/OrderStockReserved.v1.json';
import orderStockShortageJson from '../fixtures/orders/OrderStockShortage.v1.json';
import availableToPromiseChangedJson from '../fixtures/inventory/AvailableToPromiseChanged.v1.json';
import commitStockJson from '../fixtures/inventory/CommitStock.v1.json';
import lowStockAlertedJson from '../fixtures/inventory/LowStockAlerted.v1.json';
import releaseStockJson from '../fixtures/inventory/ReleaseStock.v1.json';
import releaseStockLinesJson from '../fixtures/inventory/ReleaseStockLines.v1.json';
import stockLinesReleasedJson from '../fixtures/inventory/StockLinesReleased.v1.json';
import stockWentNegativeJson from '../fixtures/inventory/StockWentNegative.v1.json';
import reserveStockJson from '../fixtures/inventory/ReserveStock.v1.json';
import stockAdjustedJson from '../fixtures/inventory/StockAdjusted.v1.json';
import stockCommittedJson from '../fixtures/inventory/StockCommitted.v1.json';
import stockLevelChangedJson from '../fixtures/inventory/StockLevelChanged.v1.json';
import stockReceivedJson from '../fixtures/inventory/StockReceived.v1.json';
import stockReleasedJson from '../fixtures/inventory/StockReleased.v1.json';
import stockReservedJson from '../fixtures/inventory/StockReserved.v1.json';
import stockShortageJson from '../fixtures/inventory/StockShortage.v1.json';
import approvalGrantedJson from '../fixtures/approval/ApprovalGranted.v1.json';
import approvalRejectedJson from '../fixtures/approval/ApprovalRejected.v1.json';
import approvalRequestedJson from '../fixtures/approval/ApprovalRequested.v1.json';
import approvalStepApprovedJson from '../fixtures/approval/ApprovalStepApproved.v1.json';
import approvalWithdrawnJson from '../fixtures/approval/ApprovalWithdrawn.v1.json';
import requestApprovalJson from '../fixtures/approval/RequestApproval.v1.json';
import withdrawApprovalJson from '../fixtures/approval/WithdrawApproval.v1.json';
import approvalStepSkippedJson from '../fixtures/approval/ApprovalStepSkipped.v1.json';
import approvalStepStartedJson from '../fixtures/approval/ApprovalStepStarted.v1.json';
import approvalStepDelegatedJson from '../fixtures/approval/ApprovalStepDelegated.v1.json';
import approvalVoteRecordedJson from '../fixtures/approval/ApprovalVoteRecorded.v1.json';
import approvalReturnedJson from '../fixtures/approval/ApprovalReturned.v1.json';
import approvalResubmittedJson from '../fixtures/approval/ApprovalResubmitted.v1.json';
import approvalStepRemindedJson from '../fixtures/approval/ApprovalStepReminded.v1.json';
import approvalStepEscalatedJson from '../fixtures/approval/ApprovalStepEscalated.v1.json';
import approvalExpiredJson from '../fixtures/approval/ApprovalExpired.v1.json';
import approvalFreezeOverriddenJson from '../fixtures/approval/ApprovalFreezeOverridden.v1.json';
import changeApprovedJson from '../fixtures/approval/ChangeApproved.v1.json';
import changeRefusedJson from '../fixtures/approval/ChangeRefused.v1.json';
import fulfillmentStoppedJson from '../fixtures/fulfillment/FulfillmentStopped.v1.json';
import freezeOverriddenJson from '../fixtures/fulfillment/FreezeOverridden.v1.json';
import returnReceivedJson from '../fixtures/fulfillment/ReturnReceived.v1.json';
import returnRequestedJson from '../fixtures/fulfillment/ReturnRequested.v1.json';
import workOrderProgressedJson from '../fixtures/fulfillment/WorkOrderProgressed.v1.json';
import shipmentCarrierExceptionJson from '../fixtures/fulfillment/ShipmentCarrierException.v1.json';
import shipmentInterceptRequestedJson from '../fixtures/fulfillment/ShipmentInterceptRequested.v1.json';
import shipmentTrackingUpdatedJson from '../fixtures/fulfillment/ShipmentTrackingUpdated.v1.json';
import shipmentDeliveredJson from '../fixtures/fulfillment/ShipmentDelivered.v1.json';
import shipmentPackedJson from '../fixtures/fulfillment/ShipmentPacked.v1.json';
import shipmentShippedJson from '../fixtures/fulfillment/ShipmentShipped.v1.json';
import startFulfillmentJson from '../fixtures/fulfillment/StartFulfillment.v1.json';
import stopFulfillmentJson from '../fixtures/fulfillment/StopFulfillment.v1.json';
import holdFulfillmentJson from '../fixtures/fulfillment/HoldFulfillment.v1.json';
import resumeFulfillmentJson from '../fixtures/fulfillment/ResumeFulfillment.v1.json';
import notificationFailedJson from '../fixtures/notification/NotificationFailed.v1.json';
import notificationSentJson from '../fixtures/notification/NotificationSent.v1.json';
import notificationSuppressedJson from '../fixtures/notification/NotificationSuppressed.v1.json';
import orderSlaTurnedYellowJson from '../fixtures/tracking/OrderSlaTurnedYellow.v1.json';
import orderSlaTurnedRedJson from '../fixtures/tracking/OrderSlaTurnedRed.v1.json';
import orderStuckJson from '../fixtures/tracking/OrderStuck.v1.json';

// Every published contract type has a JSON fixture, libs/contracts/fixtures/<context>/<Type>.v<N>.json:
// one realistic envelope (masked names and addresses, money in fen, ids as strings). The fixtures are
// checked against the TypeScript interfaces at compile time (below) and read back through
// decodeEnvelope at run time.

/**
 * How a JSON import of `T` is typed: TypeScript widens string literals in JSON to `string`
 * (`"channel": "taobao"` is a string, not a Channel), so literal unions are compared as strings
 * here and checked against their enumerations at run time instead.
 */
type Json<T> = T extends string
  ? string
  : T extends number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Json<U>[]
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

/** `A` with every property that `E` does not declare turned into `never` (at any depth), so extra or misspelt fields fail to compile. */
type Exact<A, E> = A extends readonly (infer U)[]
  ? E extends readonly (infer V)[]
    ? Exact<U, V>[]
    : A
  : A extends object
    ? string extends keyof E
      ? A
      : { [K in keyof A]: K extends keyof E ? Exact<A[K], Exclude<E[K], undefined | null>> : never }
    : A;

/**
 * The `satisfies` of a JSON import: compiles only when the fixture has every required field of
 * `ContractEnvelope<T>` with the right JSON type and no field the interface does not declare.
 */
function fixture<T extends ContractType>(_type: T) {
  return <J extends Json<ContractEnvelope<T>>>(json: J & Exact<J, Json<ContractEnvelope<T>>>): ContractEnvelope<T> => json as unknown as ContractEnvelope<T>;
}

/** One typed fixture per contract type: a type without one does not compile. */
const FIXTURES: { [T in ContractType]: ContractEnvelope<T> } = {
  OrderApprovalRejected: fixture('OrderApprovalRejected')(orderApprovalRejectedJson),
  OrderApprovalRequired: fixture('OrderApprovalRequired')(orderApprovalRequiredJson),
  OrderChanged: fixture('OrderChanged')(orderChangedJson),
  OrderChangeRefused: fixture('OrderChangeRefused')(orderChangeRefusedJson),
  OrderPaymentDue: fixture('OrderPaymentDue')(orderPaymentDueJson),
  ApplyOrderChange: fixture('ApplyOrderChange')(applyOrderChangeJson),
  OrderPartialRefundRequested: fixture('OrderPartialRefundRequested')(orderPartialRefundRequestedJson),
  OrderPartialRefunded: fixture('OrderPartialRefunded')(orderPartialRefundedJson),
  OrderPiiRevealed: fixture('OrderPiiRevealed')(orderPiiRevealedJson),
  OrderApproved: fixture('OrderApproved')(orderApprovedJson),
  OrderArchived: fixture('OrderArchived')(orderArchivedJson),
  OrderCancelled: fixture('OrderCancelled')(orderCancelledJson),
  OrderDelivered: fixture('OrderDelivered')(orderDeliveredJson),
  OrderExceptionFlagged: fixture('OrderExceptionFlagged')(orderExceptionFlaggedJson),
  OrderExceptionResolved: fixture('OrderExceptionResolved')(orderExceptionResolvedJson),
  OrderHoldReleased: fixture('OrderHoldReleased')(orderHoldReleasedJson),
  OrderPacked: fixture('OrderPacked')(orderPackedJson),
  OrderPaid: fixture('OrderPaid')(orderPaidJson),
  OrderPlaced: fixture('OrderPlaced')(orderPlacedJson),
  OrderPutOnHold: fixture('OrderPutOnHold')(orderPutOnHoldJson),
  OrderReadyToShip: fixture('OrderReadyToShip')(orderReadyToShipJson),
  OrderRefundRequested: fixture('OrderRefundRequested')(orderRefundRequestedJson),
  OrderRefunded: fixture('OrderRefunded')(orderRefundedJson),
  OrderRuleDecided: fixture('OrderRuleDecided')(orderRuleDecidedJson),
  OrderShipped: fixture('OrderShipped')(orderShippedJson),
  OrderStockReserved: fixture('OrderStockReserved')(orderStockReservedJson),
  OrderStockShortage: fixture('OrderStockShortage')(orderStockShortageJson),
  AvailableToPromiseChanged: fixture('AvailableToPromiseChanged')(availableToPromiseChangedJson),
  CommitStock: fixture('CommitStock')(commitStockJson),
  LowStockAlerted: fixture('LowStockAlerted')(lowStockAlertedJson),
  ReleaseStock: fixture('ReleaseStock')(releaseStockJson),
  ReleaseStockLines: fixture('ReleaseStockLines')(releaseStockLinesJson),
  StockLinesReleased: fixture('StockLinesReleased')(stockLinesReleasedJson),
  StockWentNegative: fixture('StockWentNegative')(stockWentNegativeJson),
  ReserveStock: fixture('ReserveStock')(reserveStockJson),
  StockAdjusted: fixture('StockAdjusted')(stockAdjustedJson),
  StockCommitted: fixture('StockCommitted')(stockCommittedJson),
  StockLevelChanged: fixture('StockLevelChanged')(stockLevelChangedJson),
  StockReceived: fixture('StockReceived')(stockReceivedJson),
  StockReleased: fixture('StockReleased')(stockReleasedJson),
  StockReserved: fixture('StockReserved')(stockReservedJson),
  StockShortage: fixture('StockShortage')(stockShortageJson),
  ApprovalGranted: fixture('ApprovalGranted')(approvalGrantedJson),
  ApprovalRejected: fixture('ApprovalRejected')(approvalRejectedJson),
  ApprovalRequested: fixture('ApprovalRequested')(approvalRequestedJson),
  ApprovalStepApproved: fixture('ApprovalStepApproved')(approvalStepApprovedJson),
  ApprovalWithdrawn: fixture('ApprovalWithdrawn')(approvalWithdrawnJson),
  RequestApproval: fixture('RequestApproval')(requestApprovalJson),
  WithdrawApproval: fixture('WithdrawApproval')(withdrawApprovalJson),
  ApprovalStepSkipped: fixture('ApprovalStepSkipped')(approvalStepSkippedJson),
  ApprovalStepStarted: fixture('ApprovalStepStarted')(approvalStepStartedJson),
  ApprovalStepDelegated: fixture('ApprovalStepDelegated')(approvalStepDelegatedJson),
  ApprovalVoteRecorded: fixture('ApprovalVoteRecorded')(approvalVoteRecordedJson),
  ApprovalReturned: fixture('ApprovalReturned')(approvalReturnedJson),
  ApprovalResubmitted: fixture('ApprovalResubmitted')(approvalResubmittedJson),
  ApprovalStepReminded: fixture('ApprovalStepReminded')(approvalStepRemindedJson),
  ApprovalStepEscalated: fixture('ApprovalStepEscalated')(approvalStepEscalatedJson),
  ApprovalExpired: fixture('ApprovalExpired')(approvalExpiredJson),
  ApprovalFreezeOverridden: fixture('ApprovalFreezeOverridden')(approvalFreezeOverriddenJson),
  ChangeApproved: fixture('ChangeApproved')(changeApprovedJson),
  ChangeRefused: fixture('ChangeRefused')(changeRefusedJson),
  FulfillmentStopped: fixture('FulfillmentStopped')(fulfillmentStoppedJson),
  ShipmentDelivered: fixture('ShipmentDelivered')(shipmentDeliveredJson),
  ShipmentPacked: fixture('ShipmentPacked')(shipmentPackedJson),
  ShipmentShipped: fixture('ShipmentShipped')(shipmentShippedJson),
  StartFulfillment: fixture('StartFulfillment')(startFulfillmentJson),
  StopFulfillment: fixture('StopFulfillment')(stopFulfillmentJson),
  HoldFulfillment: fixture('HoldFulfillment')(holdFulfillmentJson),
  ResumeFulfillment: fixture('ResumeFulfillment')(resumeFulfillmentJson),
  FreezeOverridden: fixture('FreezeOverridden')(freezeOverriddenJson),
  ReturnReceived: fixture('ReturnReceived')(returnReceivedJson),
  ReturnRequested: fixture('ReturnRequested')(returnRequestedJson),
  WorkOrderProgressed: fixture('WorkOrderProgressed')(workOrderProgressedJson),
  ShipmentCarrierException: fixture('ShipmentCarrierException')(shipmentCarrierExceptionJson),
  ShipmentInterceptRequested: fixture('ShipmentInterceptRequested')(shipmentInterceptRequestedJson),
  ShipmentTrackingUpdated: fixture('ShipmentTrackingUpdated')(shipmentTrackingUpdatedJson),
  NotificationFailed: fixture('NotificationFailed')(notificationFailedJson),
  NotificationSent: fixture('NotificationSent')(notificationSentJson),
  NotificationSuppressed: fixture('NotificationSuppressed')(notificationSuppressedJson),
  OrderSlaTurnedYellow: fixture('OrderSlaTurnedYellow')(orderSlaTurnedYellowJson),
  OrderSlaTurnedRed: fixture('OrderSlaTurnedRed')(orderSlaTurnedRedJson),
  OrderStuck: fixture('OrderStuck')(orderStuckJson),
};

// The check itself, proven: each of these would compile if the helper let a wrong fixture through.
const envelopeOf = <D>(data: D) => ({ ...FIXTURES.OrderPaid, data });
// @ts-expect-error a misspelt field (`ammount`) is refused
fixture('OrderPaid')(envelopeOf({ orderId: 'o', ammount: 1, currency: 'CNY', paidAt: '2025-11-25T08:00:00.000Z' }));
// @ts-expect-error a missing required field (`paidAt`) is refused
fixture('OrderPaid')(envelopeOf({ orderId: 'o', amount: 1, currency: 'CNY' }));
// @ts-expect-error money as a yuan string is refused
fixture('OrderPaid')(envelopeOf({ orderId: 'o', amount: '281.00', currency: 'CNY', paidAt: '2025-11-25T08:00:00.000Z' }));
// @ts-expect-error an extra nested field is refused
fixture('OrderStockReserved')({ ...FIXTURES.OrderStockReserved, data: { orderId: 'o', reservationId: 'r', allocations: [{ lineId: 'L1', sku: 'S', warehouseId: 'W', quantity: 1, bin: 'A-01' }] } });

const FIXTURE_ROOT = resolve(__dirname, '../fixtures');

interface FixtureFile {
  context: string;
  type: string;
  version: number;
  path: string;
}

function fixtureFiles(): FixtureFile[] {
  const out: FixtureFile[] = [];
  for (const context of readdirSync(FIXTURE_ROOT, { withFileTypes: true })) {
    if (!context.isDirectory()) continue;
    for (const file of readdirSync(join(FIXTURE_ROOT, context.name))) {
      const m = /^([A-Za-z]+)\.v(\d+)\.json$/.exec(file);
      if (!m) throw new Error(`fixture file name ${context.name}/${file} is not <Type>.v<N>.json`);
      out.push({ context: context.name, type: m[1], version: Number(m[2]), path: join(FIXTURE_ROOT, context.name, file) });
    }
  }
  return out;
}

const files = fixtureFiles();
const current = files.filter((f) => contractRegistry.info(f.type)?.schemaVersion === f.version);

describe('contract fixtures', () => {
  it('every type in the registry has a fixture at its current version, in its context folder, and every fixture names a registered type', () => {
    const expected = contractRegistry.types().map((t) => `${t.context}/${t.type}.v${t.schemaVersion}`).sort();
    expect(current.map((f) => `${f.context}/${f.type}.v${f.version}`).sort()).toEqual(expected);
    for (const f of files) {
      const info = contractRegistry.info(f.type);
      expect(info, `${f.context}/${f.type}: not a registered type`).toBeDefined();
      expect(f.context, f.type).toBe(info?.context);
      // Older versions may stay as fixtures of their upcaster; never a version the registry cannot read.
      expect(f.version, f.type).toBeGreaterThanOrEqual(info?.firstVersion ?? Infinity);
      expect(f.version, f.type).toBeLessThanOrEqual(info?.schemaVersion ?? 0);
    }
    expect(Object.keys(FIXTURES).sort()).toEqual(contractRegistry.types().map((t) => t.type).sort());
    expect(new Set(files.map((f) => f.context))).toEqual(new Set(BOUNDED_CONTEXTS));
  });

  it.each(files.map((f) => [`${f.context}/${f.type}.v${f.version}`, f] as const))('%s round-trips: parse -> decodeEnvelope -> stringify -> parse is equal', (_name, f) => {
    const text = readFileSync(f.path, 'utf8');
    const parsed = JSON.parse(text) as EventEnvelope;
    const decoded = decodeEnvelope(text);
    expect(decoded.type).toBe(f.type);
    expect(parsed.schemaVersion).toBe(f.version);
    expect(decoded.schemaVersion).toBe(contractRegistry.currentVersion(f.type));
    if (f.version === decoded.schemaVersion) {
      expect(JSON.parse(JSON.stringify(decoded))).toEqual(parsed);
      // Bytes, as a Kafka message value arrives, decode the same.
      expect(decodeEnvelope(Buffer.from(text, 'utf8'))).toEqual(decoded);
      // The typed import (compile-time checked) is the same document.
      expect(FIXTURES[f.type as ContractType]).toEqual(parsed);
    }
  });

  it('the payload carries its partition key (orderId, or sku where stock order matters)', () => {
    for (const t of contractRegistry.types()) {
      const env = FIXTURES[t.type as ContractType] as EventEnvelope<Record<string, unknown>>;
      const key = env.data[t.partitionKey ?? 'orderId'];
      expect(typeof key, t.type).toBe('string');
      expect(key, t.type).not.toBe('');
    }
  });

  it('money and quantities are integers (fen, units), times are ISO strings, ids are strings', () => {
    const walk = (v: unknown, path: string): void => {
      if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
      if (v !== null && typeof v === 'object') return Object.entries(v).forEach(([k, x]) => walk(x, `${path}.${k}`));
      // No floats anywhere in a contract: amounts are fen, counts are units.
      if (typeof v === 'number') expect(Number.isSafeInteger(v), path).toBe(true);
      if (/At$/.test(path)) expect(typeof v === 'string' && Number.isFinite(Date.parse(v)) && /T.*(Z|[+-]\d\d:\d\d)$/.test(v), `${path} = ${String(v)}`).toBe(true);
      if (/(Id|Ref|No|Number)$/.test(path) && !(path.endsWith('.causationId') && v === null)) expect(typeof v, path).toBe('string');
    };
    for (const [type, env] of Object.entries(FIXTURES)) walk(env, type);
  });

  it('keeps a 19-digit Taobao order id as a string and masks the buyer', () => {
    const placed = FIXTURES.OrderPlaced.data;
    expect(placed.channel).toBe('taobao');
    expect(placed.channelOrderId).toMatch(/^\d{19}$/);
    expect(placed.customer.nameMasked).toMatch(/\*/);
    expect(placed.customer.phoneMasked).toMatch(/^\d{3}\*{4}\d{4}$/);
    expect(placed.shippingAddress.streetMasked).toMatch(/\*/);
    expect(placed.shippingAddress.recipientMasked).toMatch(/\*/);
    // No full mobile number or full Chinese name leaves a service in a fixture.
    for (const f of files) expect(readFileSync(f.path, 'utf8'), f.path).not.toMatch(/(?<!\d)1[3-9]\d{9}(?!\d)/);
  });

  it('enumerated fields hold values of their enumeration (JSON imports cannot check literal unions at compile time)', () => {
    const decisions = ['require_approval', 'require_qc', 'free_shipping', 'hold_for_review', 'priority', 'ready_to_ship'] as const satisfies readonly RuleDecisionKind[];
    const allDecisions: [RuleDecisionKind] extends [(typeof decisions)[number]] ? true : false = true;
    expect(allDecisions).toBe(true);
    expect(CHANNELS).toContain(FIXTURES.OrderPlaced.data.channel);
    expect(CHANNELS).toContain(FIXTURES.ReserveStock.data.channel);
    expect(CHANNELS).toContain(FIXTURES.AvailableToPromiseChanged.data.channel);
    expect(ORDER_STAGES).toContain(FIXTURES.OrderCancelled.data.stageAtCancel);
    expect(ORDER_STAGES).toContain(FIXTURES.OrderRefundRequested.data.stageAtRequest);
    expect(decisions).toContain(FIXTURES.OrderRuleDecided.data.decision);
    expect(['normal', 'high']).toContain(FIXTURES.OrderReadyToShip.data.priority);
    expect(['normal', 'high']).toContain(FIXTURES.StartFulfillment.data.priority);
    for (const env of Object.values(FIXTURES)) if (env.actor) expect(['user', 'service', 'customer', 'channel']).toContain(env.actor.kind);
  });

  it('fixture event ids are unique', () => {
    const ids = Object.values(FIXTURES).map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
