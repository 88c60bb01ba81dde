/**
 * autocannon (a real HTTP load generator, in this process) posting unique orders: every request
 * gets its own channel order id and Idempotency-Key through `setupRequest`.
 */
import { benchOrder, type OrderShape } from './orders';
import { authHeaders } from './auth';

interface CannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  timeout?: number;
  requests: { method: string; path: string; setupRequest?: (req: CannonRequest) => CannonRequest; onResponse?: (status: number, body: string) => void }[];
}
interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { total: number; average: number };
}
const autocannon = require('autocannon') as (o: CannonOptions) => Promise<CannonResult>;

export interface CannonFigures {
  /** 201/200 answers per second over the phase. */
  ordersPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
}

/** Counter shared by every phase of a run: ids never repeat within a run. */
let sequence = 0;

export async function postOrders(o: {
  baseUrl: string;
  connections: number;
  durationSec: number;
  overallRate?: number;
  shape: OrderShape;
  /** Called with the body of every 201 (to check afterwards that each one was stored). */
  onCreated?: (body: string) => void;
}): Promise<CannonFigures> {
  const onCreated = o.onCreated;
  const r = await autocannon({
    url: o.baseUrl,
    connections: o.connections,
    duration: o.durationSec,
    timeout: 30,
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path: '/api/orders',
        setupRequest: (req) => {
          const order = benchOrder(sequence++, o.shape);
          return {
            ...req,
            headers: { ...authHeaders(), 'content-type': 'application/json', 'idempotency-key': order.idempotencyKey },
            body: JSON.stringify(order.body),
          };
        },
        ...(onCreated ? { onResponse: (status: number, body: string) => status === 201 && onCreated(body) } : {}),
      },
    ],
  });
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count]));
  const ok = (statuses['201'] ?? 0) + (statuses['200'] ?? 0);
  return {
    ordersPerSec: ok / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ok,
    failed: r.errors + r.non2xx,
    statuses,
  };
}
