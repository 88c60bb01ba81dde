import { Topics, type ApprovalEventDataMap, type InventoryCommandDataMap, type OrderCommandDataMap } from '@flowline/contracts';
import type { RecordedEvent } from '@flowline/eventstore';
import type { RelayRoute } from '@flowline/messaging';
import type { ApprovalEvent } from '../domain/approval.decider';

export const APPROVAL_STREAM_PREFIXES = ['approval-'];

/**
 * Stored approval events are published as they are on `approval.events.v1`, keyed by orderId,
 * except: the out-of-office rules copied into ApprovalRequested stay inside (who is away is not
 * published), and the stock requests of a change go to inventory as its own commands (the
 * approval stream is their outbox), keyed by the change's reservation id.
 */
export function approvalRelayRoute(e: RecordedEvent): RelayRoute | null {
  const event = { type: e.type, data: e.data } as ApprovalEvent;
  switch (event.type) {
    case 'ChangeStockRequested': {
      const d = event.data;
      const data: InventoryCommandDataMap['ReserveStock'] = { orderId: d.reservationId, channel: d.channel, ...(d.shopId ? { shopId: d.shopId } : {}), lines: d.lines };
      return { topic: Topics.inventoryCommands, key: d.reservationId, type: 'ReserveStock', schemaVersion: 1, data };
    }
    case 'ChangeStockReleaseRequested': {
      const d = event.data;
      const data: InventoryCommandDataMap['ReleaseStock'] = { orderId: d.reservationId, reason: d.reason };
      return { topic: Topics.inventoryCommands, key: d.reservationId, type: 'ReleaseStock', schemaVersion: 1, data };
    }
    case 'ChangeStockLinesReleaseRequested': {
      // The order's own reservation (keyed by orderId, like order-intake's ReserveStock), or an
      // earlier change's own reservation holding units this change gives up (keyed by its id).
      const d = event.data;
      const reservation = d.reservationId ?? d.orderId;
      const data: InventoryCommandDataMap['ReleaseStockLines'] = { orderId: reservation, lines: d.lines, reason: d.reason };
      return { topic: Topics.inventoryCommands, key: reservation, type: 'ReleaseStockLines', schemaVersion: 1, data };
    }
    case 'ApprovalRequested': {
      const { outOfOffice: _internal, changePrivate: _clear, shopId: _shop, ...published } = event.data;
      return route(event.type, published);
    }
    case 'ChangeApplyRequested': {
      // The clear new address / invoice: to order-intake only, on its private command topic.
      const { requestedAt: _at, ...data } = event.data;
      return { topic: Topics.orderCommands, key: data.orderId, type: 'ApplyOrderChange', schemaVersion: 1, data: data satisfies OrderCommandDataMap['ApplyOrderChange'] };
    }
    default:
      return route(event.type, event.data);
  }
}

function route<K extends keyof ApprovalEventDataMap>(type: K, data: ApprovalEventDataMap[K]): RelayRoute {
  return { topic: Topics.approvalEvents, key: (data as { orderId: string }).orderId, type, schemaVersion: 1, data };
}
