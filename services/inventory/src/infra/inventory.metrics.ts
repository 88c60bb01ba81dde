import { defineCounter, defineHistogram } from '@flowline/observability';
import type { CommandResult, InventoryCommand } from '../application/inventory-commands';

/** Prometheus metrics of the inventory unit of work (served on /metrics). */
export function inventoryMetrics() {
  const batchSize = defineHistogram({
    name: 'flowline_inventory_batch_commands',
    help: 'Commands applied per inventory transaction',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
  });
  const seconds = defineHistogram({
    name: 'flowline_inventory_transaction_seconds',
    help: 'Duration of an inventory transaction, retries included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const commands = defineCounter<'type' | 'outcome'>({
    name: 'flowline_inventory_commands_total',
    help: 'Inventory commands by type and outcome (reserved, shortage, released, committed, duplicate, refused, ...)',
    labelNames: ['type', 'outcome'],
  });
  const retries = defineCounter<'cause'>({
    name: 'flowline_inventory_transaction_retries_total',
    help: 'Inventory transactions retried, by cause',
    labelNames: ['cause'],
  });
  return {
    onCommitted(cs: InventoryCommand[], results: CommandResult[], s: number): void {
      batchSize.observe(cs.length);
      seconds.observe(s);
      results.forEach((r, i) => {
        const outcome =
          r.status !== 'applied'
            ? r.status
            : r.outcome.kind === 'level'
              ? r.outcome.changed
                ? 'applied'
                : 'unchanged'
              : r.outcome.result.kind;
        commands.inc({ type: cs[i].type, outcome });
      });
    },
    onRetry(cause: string): void {
      retries.inc({ cause });
    },
  };
}
