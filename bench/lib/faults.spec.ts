import { describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, type FaultOrder, faultTimes, held, judge, parseFaults, type StockLevel } from './faults';

const SERVICES = ['order-intake', 'inventory', 'tracking', 'fulfillment', 'notification'];

describe('fault schedule', () => {
  it('parses kills, database and broker outages, and the default schedule', () => {
    expect(parseFaults('kill:inventory, db:8,kafka:10', SERVICES)).toEqual([
      { kind: 'kill', service: 'inventory' },
      { kind: 'db', seconds: 8 },
      { kind: 'kafka', seconds: 10 },
    ]);
    expect(parseFaults(DEFAULT_FAULTS, SERVICES)).toHaveLength(8);
  });

  it('refuses an unknown service, kind or duration, naming the entry', () => {
    expect(() => parseFaults('kill:billing', SERVICES)).toThrow(/"kill:billing"/);
    expect(() => parseFaults('reboot:5', SERVICES)).toThrow(/"reboot:5"/);
    expect(() => parseFaults('db:0', SERVICES)).toThrow(/"db:0"/);
    expect(() => parseFaults('kafka:600', SERVICES)).toThrow(/"kafka:600"/);
  });

  it('spreads the faults over 10% to 80% of the window, each outage keeping its own time', () => {
    const kill = { kind: 'kill', service: 'inventory' } as const;
    expect(faultTimes([], 60)).toEqual([]);
    expect(faultTimes([kill], 60)).toEqual([6]);
    expect(faultTimes([kill, kill, kill], 60)).toEqual([6, 27, 48]);
    // 42 s of span: an 8 s database outage and a 10 s broker stop (+10 s to start) leave 14 s, 7 s per gap.
    expect(faultTimes([{ kind: 'db', seconds: 8 }, { kind: 'kafka', seconds: 10 }, kill], 60)).toEqual([6, 21, 48]);
    // Outages longer than the span follow each other without a gap.
    expect(faultTimes([{ kind: 'db', seconds: 30 }, kill], 20)).toEqual([2, 32]);
  });
});

describe('fault verdict', () => {
  const ready = (sku: string, id: string): FaultOrder => ({ sku, orderId: id, paid: true, stage: 'ready_to_ship', trackedStage: 'ready_to_ship', shipments: 1 });
  const waiting = (sku: string, id: string): FaultOrder => ({ sku, orderId: id, paid: true, stage: 'paid', trackedStage: 'paid' });
  const opening = new Map<string, StockLevel>([
    ['A', { onHand: 100, reserved: 0 }],
    ['S', { onHand: 2, reserved: 0 }],
  ]);

  it('holds when stock lasted for the first orders, the rest wait, and every ready order has one parcel', () => {
    const orders = [ready('A', '1'), ready('A', '2'), ready('S', '3'), ready('S', '4'), waiting('S', '5'), { sku: 'A', paid: false }];
    const stock = new Map([
      ['A', { onHand: 100, reserved: 2 }],
      ['S', { onHand: 2, reserved: 2 }],
    ]);
    const v = judge(orders, stock, opening);
    expect(v).toEqual({ accepted: 5, lost: 0, unsettled: 0, trackingMismatches: 0, oversoldUnits: 0, reservationDrift: 0, shipmentAnomalies: 0 });
    expect(held(v)).toBe(true);
  });

  it('accepts any stage for an order whose last request went unanswered, and still checks the stock', () => {
    const orders: FaultOrder[] = [{ sku: 'S', orderId: '1', paid: false, unknown: true, stage: 'ready_to_ship', trackedStage: 'ready_to_ship', shipments: 1 }, { sku: 'S', orderId: '2', paid: false, unknown: true, stage: 'placed', trackedStage: 'placed' }];
    const stock = new Map([['S', { onHand: 2, reserved: 1 }]]);
    expect(held(judge(orders, stock, opening))).toBe(true);
  });

  it('counts a lost order, a lagging tracking row, oversold and doubled units, a missing parcel and a stuck order', () => {
    const orders: FaultOrder[] = [
      { sku: 'A', orderId: 'gone', paid: true },
      { ...ready('A', '2'), trackedStage: 'paid' },
      { ...ready('A', '3'), shipments: 0 },
      ready('S', '4'),
      ready('S', '5'),
      ready('S', '6'),
      { sku: 'A', orderId: '7', paid: true, stage: 'placed', trackedStage: 'placed' },
    ];
    const stock = new Map([
      ['A', { onHand: 100, reserved: 4 }],
      ['S', { onHand: 2, reserved: 3 }],
    ]);
    const v = judge(orders, stock, opening);
    expect(v.lost).toBe(1);
    expect(v.trackingMismatches).toBe(1);
    expect(v.shipmentAnomalies).toBe(1);
    expect(v.oversoldUnits).toBe(1);
    // A: 4 reserved for 2 ready orders; S: 3 for 3.
    expect(v.reservationDrift).toBe(2);
    // S: 3 ready where the stock holds 2; order 7 paid but still placed (counted once).
    expect(v.unsettled).toBe(2);
    expect(held(v)).toBe(false);
  });
});
