import { describe, expect, it } from 'vitest';
import { type CostSnapshot, dbQueriesFromMetrics, idleRate, orderCost, perServiceText, withoutIdle } from './order-cost';

const services = [
  { name: 'order-intake', httpPort: 3001, database: 'flowline_order_intake' },
  { name: 'inventory', httpPort: 3002, database: 'flowline_inventory' },
];

function snap(at: number, cpu: Record<string, number>, commits: Record<string, number>, queries: Record<string, number>, walSyncs = 0): CostSnapshot {
  return { cpu: { at, cpu }, commits, queries, walSyncs };
}

describe('order cost', () => {
  it('sums flowline_db_queries_total over its databases from a Prometheus exposition', () => {
    const text = [
      '# HELP flowline_db_queries_total Queries',
      '# TYPE flowline_db_queries_total counter',
      'flowline_db_queries_total{database="flowline_inventory"} 120',
      'flowline_db_queries_total{database="postgres"} 3',
      'flowline_dlq_messages{topic="x"} 9',
    ].join('\n');
    expect(dbQueriesFromMetrics(text)).toBe(123);
  });

  it('charges CPU of services, postgres and kafka, commits and round trips per order (bench client and pg splits not added)', () => {
    const a = snap(0, { 'order-intake': 1, inventory: 1, postgres: 2, 'pg order_intake': 1, kafka: 1, 'bench client': 1 }, { flowline_order_intake: 100, flowline_inventory: 50 }, { 'order-intake': 1000, inventory: 10 }, 5);
    const b = snap(10_000, { 'order-intake': 1.5, inventory: 1.1, postgres: 2.3, 'pg order_intake': 1.2, kafka: 1.1, 'bench client': 9 }, { flowline_order_intake: 400, flowline_inventory: 150 }, { 'order-intake': 3000, inventory: 210 }, 105);
    const c = orderCost(a, b, 100, services);
    expect(c.cpuMsTotal).toBe(10); // (0.5 + 0.1 + 0.3 + 0.1) s / 100 orders
    expect(c.cpuMs['pg order_intake']).toBe(2);
    expect(c.cpuMs['bench client']).toBeUndefined();
    expect(c.commits).toEqual({ 'order-intake': 3, inventory: 1 });
    expect(c.commitsTotal).toBe(4);
    expect(c.roundTrips).toEqual({ 'order-intake': 20, inventory: 2 });
    expect(c.roundTripsTotal).toBe(22);
    expect(c.walSyncs).toBe(1);
    expect(perServiceText(c.roundTrips)).toBe('order-intake 20, inventory 2');
  });

  it('takes the idle system\'s own rate out of a window', () => {
    const i0 = snap(0, { 'order-intake': 0, postgres: 0 }, { flowline_order_intake: 0 }, { 'order-intake': 0 });
    const i1 = snap(10_000, { 'order-intake': 0.1, postgres: 0.2 }, { flowline_order_intake: 20 }, { 'order-intake': 100 });
    const idle = idleRate(i0, i1); // 10 ms/s, 20 ms/s CPU; 2 commits/s; 10 queries/s
    const a = snap(0, { 'order-intake': 1, postgres: 1 }, { flowline_order_intake: 100 }, { 'order-intake': 1000 });
    const b = snap(5_000, { 'order-intake': 1.55, postgres: 1.3 }, { flowline_order_intake: 160 }, { 'order-intake': 1250 });
    const c = orderCost(a, withoutIdle(a, b, idle), 10, services);
    expect(c.cpuMs['order-intake']).toBe(50); // 550 ms - 50 ms idle, over 10 orders
    expect(c.cpuMs.postgres).toBe(20); // 300 - 100
    expect(c.commits['order-intake']).toBe(5); // 60 - 10
    expect(c.roundTrips['order-intake']).toBe(20); // 250 - 50
  });
});
