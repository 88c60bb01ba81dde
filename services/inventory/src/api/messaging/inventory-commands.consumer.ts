import type { EventEnvelope, InventoryCommandDataMap } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import type { MessagingLogger } from '@flowline/messaging';
import type { CommandMeta, CommandResult, InventoryCommand } from '../../application/inventory-commands';
import type { BatchItem, ItemResult } from '../../infra/group-commit-consumer';

/**
 * Translates `inventory.commands.v1` messages into inventory commands: no business rules here,
 * only shape checks. Unknown types are skipped; a malformed command goes to the dead-letter topic.
 */
export function translateCommand(item: BatchItem, group: string, now: string, newId: () => string): InventoryCommand | null {
  const e = item.envelope as EventEnvelope<Record<string, unknown>>;
  const meta: CommandMeta = {
    commandId: e.eventId,
    correlationId: e.correlationId || e.eventId,
    at: now,
    ...(e.actor ? { actor: e.actor } : {}),
    ...(item.headers.traceparent ? { traceparent: item.headers.traceparent } : {}),
    dedupe: { kind: 'inbox', group, eventId: e.eventId, eventType: e.type, topic: item.topic, partition: item.partition, offset: item.offset },
  };
  const d = (e.data ?? {}) as Record<string, unknown>;
  const text = (field: string): string => {
    const v = d[field];
    if (typeof v !== 'string' || v === '') throw new DomainError('MALFORMED_COMMAND', `${e.type} ${e.eventId}: ${field} must be a non-empty string`, {}, 'invalid');
    return v;
  };
  switch (e.type as keyof InventoryCommandDataMap) {
    case 'ReserveStock': {
      const data = d as Partial<InventoryCommandDataMap['ReserveStock']>;
      if (!Array.isArray(data.lines)) throw new DomainError('MALFORMED_COMMAND', `ReserveStock ${e.eventId}: lines must be an array`, {}, 'invalid');
      const lines = data.lines.map((l, i) => {
        if (!l || typeof l.sku !== 'string' || typeof l.quantity !== 'number') {
          throw new DomainError('MALFORMED_COMMAND', `ReserveStock ${e.eventId}: line ${i} needs sku and quantity`, {}, 'invalid');
        }
        return { lineId: String(l.lineId ?? i + 1), sku: l.sku, quantity: l.quantity };
      });
      if (data.expiresAt !== undefined && Number.isNaN(Date.parse(data.expiresAt))) {
        throw new DomainError('MALFORMED_COMMAND', `ReserveStock ${e.eventId}: expiresAt is not an ISO time`, {}, 'invalid');
      }
      return {
        type: 'ReserveStock',
        meta,
        orderId: text('orderId'),
        reservationId: newId(),
        channel: typeof data.channel === 'string' ? data.channel : 'unknown',
        lines,
        ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
        ...(typeof data.shopId === 'string' && data.shopId ? { shopId: data.shopId } : {}),
      };
    }
    case 'ReleaseStock':
      return { type: 'ReleaseStock', meta, orderId: text('orderId'), reason: typeof d.reason === 'string' && d.reason ? d.reason : 'cancelled' };
    case 'CommitStock':
      return { type: 'CommitStock', meta, orderId: text('orderId') };
    case 'ReleaseStockLines': {
      const lines = d.lines;
      if (!Array.isArray(lines) || lines.length === 0) throw new DomainError('MALFORMED_COMMAND', `ReleaseStockLines ${e.eventId}: lines must be a non-empty array`, {}, 'invalid');
      return {
        type: 'ReleaseStockLines',
        meta,
        orderId: text('orderId'),
        lines: lines.map((raw: unknown, i) => {
          const l = raw as { sku?: unknown; quantity?: unknown; lineId?: unknown };
          if (typeof l?.sku !== 'string' || !l.sku || typeof l.quantity !== 'number' || !Number.isInteger(l.quantity) || l.quantity <= 0) {
            throw new DomainError('MALFORMED_COMMAND', `ReleaseStockLines ${e.eventId}: lines.${i} needs a sku and a positive whole quantity`, {}, 'invalid');
          }
          return { sku: l.sku, quantity: l.quantity, ...(typeof l.lineId === 'string' && l.lineId ? { lineId: l.lineId } : {}) };
        }),
        reason: typeof d.reason === 'string' && d.reason ? d.reason : 'order changed',
      };
    }
    default:
      return null;
  }
}

export interface CommandBatchDeps {
  group: string;
  execute(commands: InventoryCommand[]): Promise<CommandResult[]>;
  newId(): string;
  now(): string;
  logger: MessagingLogger;
}

/** The consumer's batch handler: translate, apply in one transaction, report per message. */
export function commandBatchHandler(deps: CommandBatchDeps): (items: BatchItem[]) => Promise<ItemResult[]> {
  return async (items) => {
    const now = deps.now();
    const results: ItemResult[] = items.map(() => ({ kind: 'done' }));
    const commands: InventoryCommand[] = [];
    const index: number[] = [];
    items.forEach((item, i) => {
      try {
        const c = translateCommand(item, deps.group, now, deps.newId);
        if (c) {
          commands.push(c);
          index.push(i);
        }
      } catch (error) {
        results[i] = { kind: 'dead-letter', error };
      }
    });
    const applied = await deps.execute(commands);
    applied.forEach((r, k) => {
      if (r.status !== 'refused') return;
      const item = items[index[k]];
      if (r.error.kind === 'invalid') {
        results[index[k]] = { kind: 'dead-letter', error: r.error };
      } else {
        // A refusal other services need not react to (e.g. commit without an open reservation): logged, not retried.
        deps.logger.warn('inventory command refused', { type: item.envelope.type, eventId: item.envelope.eventId, code: r.error.code, error: r.error.message });
      }
    });
    return results;
  };
}
