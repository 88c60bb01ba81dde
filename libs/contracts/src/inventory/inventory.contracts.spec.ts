import { describe, expect, it } from 'vitest';
import { INVENTORY_COMMAND_TYPES, INVENTORY_EVENT_TYPES, type InventoryCommandDataMap, type InventoryEventDataMap } from './inventory.messages';
import fixtures from './fixtures/inventory-messages.v1.json';

// One JSON fixture per inventory command and event (schema version 1), every optional field present.
const commands = fixtures.commands as unknown as { [K in keyof InventoryCommandDataMap]: InventoryCommandDataMap[K] };
const events = fixtures.events as unknown as { [K in keyof InventoryEventDataMap]: InventoryEventDataMap[K] };

describe('inventory contracts (schema version 1)', () => {
  it('has a fixture for every command and event type', () => {
    expect(Object.keys(commands).sort()).toEqual([...INVENTORY_COMMAND_TYPES].sort());
    expect(Object.keys(events).sort()).toEqual([...INVENTORY_EVENT_TYPES].sort());
  });

  it.each([...INVENTORY_COMMAND_TYPES, ...INVENTORY_EVENT_TYPES])('%s round-trips through JSON unchanged', (type) => {
    const data = (commands as Record<string, unknown>)[type] ?? (events as Record<string, unknown>)[type];
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });

  it('quantities are whole units and times are ISO strings', () => {
    const walk = (v: unknown, path: string): void => {
      if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
      if (v && typeof v === 'object') return Object.entries(v).forEach(([k, x]) => walk(x, `${path}.${k}`));
      if (/(quantity|requested|available|onHand|reserved|delta|atp|threshold)$/.test(path)) expect(Number.isInteger(v), path).toBe(true);
      if (/At$/.test(path)) expect(new Date(String(v)).toISOString(), path).toBe(v);
    };
    walk(fixtures, 'fixtures');
  });

  it('reservation outcomes name their order; levels and ATP name their SKU (the Kafka key)', () => {
    for (const t of ['StockReserved', 'StockShortage', 'StockReleased', 'StockCommitted'] as const) expect(events[t].orderId).toBeTruthy();
    for (const t of ['StockReceived', 'StockAdjusted', 'StockLevelChanged', 'AvailableToPromiseChanged', 'LowStockAlerted'] as const) expect(events[t].sku).toBeTruthy();
  });
});
