import { describe, expect, it } from 'vitest';
import { aCommitStock, aReleaseStock, aReserveStock, inventoryCommandEnvelope } from '@flowline/testing';
import type { EventEnvelope } from '@flowline/contracts';
import { isDomainError } from '@flowline/domain';
import type { BatchItem } from '../../infra/group-commit-consumer';
import { commandBatchHandler, translateCommand } from './inventory-commands.consumer';

const NOW = '2025-11-25T08:00:01.000Z';
const item = (envelope: EventEnvelope, offset = '7'): BatchItem => ({
  envelope,
  topic: 'inventory.commands.v1',
  partition: 3,
  offset,
  key: String((envelope.data as { orderId?: string }).orderId),
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

describe('inventory command translation', () => {
  it('turns ReserveStock into a reserve command claimed in the inbox, with time and ids from the edge', () => {
    const envelope = inventoryCommandEnvelope('ReserveStock', aReserveStock({ expiresAt: '2025-11-25T08:30:00.000Z' }));
    expect(translateCommand(item(envelope), 'inventory', NOW, () => 'RES-1')).toEqual({
      type: 'ReserveStock',
      orderId: envelope.data.orderId,
      reservationId: 'RES-1',
      channel: 'tmall',
      lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2 }],
      expiresAt: '2025-11-25T08:30:00.000Z',
      meta: {
        commandId: envelope.eventId,
        correlationId: envelope.correlationId,
        at: NOW,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        dedupe: { kind: 'inbox', group: 'inventory', eventId: envelope.eventId, eventType: 'ReserveStock', topic: 'inventory.commands.v1', partition: 3, offset: '7' },
      },
    });
  });

  it('translates ReleaseStock and CommitStock, and skips types it does not know', () => {
    expect(translateCommand(item(inventoryCommandEnvelope('ReleaseStock', aReleaseStock({ reason: 'refunded' }))), 'g', NOW, () => 'x')).toMatchObject({
      type: 'ReleaseStock',
      reason: 'refunded',
    });
    expect(translateCommand(item(inventoryCommandEnvelope('CommitStock', aCommitStock())), 'g', NOW, () => 'x')).toMatchObject({ type: 'CommitStock' });
    expect(translateCommand(item({ ...inventoryCommandEnvelope('CommitStock', aCommitStock()), type: 'SomethingElse' }), 'g', NOW, () => 'x')).toBeNull();
  });

  it('refuses malformed commands as invalid (they go to the dead-letter topic)', () => {
    const bad = inventoryCommandEnvelope('ReserveStock', { ...aReserveStock(), lines: 'two teas' as never });
    let thrown: unknown;
    try {
      translateCommand(item(bad), 'g', NOW, () => 'x');
    } catch (e) {
      thrown = e;
    }
    expect(isDomainError(thrown) && thrown.kind === 'invalid' && thrown.code === 'MALFORMED_COMMAND').toBe(true);
  });

  it('the batch handler dead-letters malformed and invalid commands and lets the rest through in one call', async () => {
    const calls: number[] = [];
    const handler = commandBatchHandler({
      group: 'g',
      newId: () => 'R',
      now: () => NOW,
      logger: { info() {}, warn() {}, error() {} },
      async execute(commands) {
        calls.push(commands.length);
        return commands.map((c) =>
          c.type === 'ReserveStock' && c.lines[0].quantity === 0
            ? { status: 'refused' as const, error: Object.assign(new Error('zero'), { code: 'INVALID_QUANTITY', kind: 'invalid' as const, details: {}, name: 'DomainError' }) }
            : { status: 'applied' as const, outcome: { kind: 'reservation-end' as const, orderId: 'x', result: { kind: 'nothing_to_do' as const } } },
        );
      },
    });
    const results = await handler([
      item(inventoryCommandEnvelope('ReserveStock', aReserveStock())),
      item(inventoryCommandEnvelope('ReserveStock', { ...aReserveStock(), lines: null as never })),
      item(inventoryCommandEnvelope('ReserveStock', aReserveStock({ lines: [{ lineId: 'L1', sku: 'TEA', quantity: 0 }] }))),
    ]);
    expect(calls).toEqual([2]);
    expect(results.map((r) => r.kind)).toEqual(['done', 'dead-letter', 'dead-letter']);
  });
});
