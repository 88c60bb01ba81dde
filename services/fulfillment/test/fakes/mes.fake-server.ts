import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A factory MES, written apart from the service (only the Standard Webhooks spec and the
 * callback contract of the README):
 *
 * - Subscribes itself to fulfillment's webhooks (`order.approved`, `order.ready_to_ship`) once
 *   fulfillment answers, keeping the signing secret of the reply (an existing subscription of its
 *   URL gets a rotated secret, so a restarted fake still verifies).
 * - Verifies every push (webhook-id, webhook-timestamp within 5 min, webhook-signature v1
 *   HMAC-SHA256 over `id.timestamp.body`); a bad one is refused 401 and changes nothing.
 * - For each order whose parcels wait for production (`awaitingProduction`), opens one work order
 *   and reports it back, signed with the shared callback secret: created -> in_production 25 / 50
 *   / 75 % -> completed, one step every `stepMs`. A refused callback is sent again next step.
 */
export interface MesFakeOptions {
  port?: number;
  /** Fulfillment's base URL (subscriptions and the progress callback). */
  fulfillmentUrl: string;
  /** Standard Webhooks secret (whsec_...) the MES signs its callbacks with (fulfillment's MES_CALLBACK_SECRET). */
  callbackSecret: string;
  /** Time between two progress reports of a work order (default 12 s: completed after ~1 minute). */
  stepMs?: number;
  /** Subscribe to fulfillment on start (default true); tests may hand the secret over instead. */
  subscribe?: boolean;
  /**
   * The Authorization header value for fulfillment's subscription API (admin, issue #16), e.g.
   * `Bearer <token>` of the local issuer; none: the request goes without (tests' setup adds one).
   */
  authorization?: () => Promise<string | undefined>;
}

export interface MesPush {
  webhookId: string;
  type: string;
  orderId: string;
  verified: boolean;
}

export interface MesCallback {
  workOrderId: string;
  orderId: string;
  status: 'created' | 'in_production' | 'completed' | 'problem';
  percent?: number;
  httpStatus: number;
}

export interface MesFake {
  url: string;
  /** Where fulfillment pushes. */
  hookUrl: string;
  pushes: MesPush[];
  callbacks: MesCallback[];
  /** Use this webhook secret (tests, or after a rotation elsewhere). */
  useSecret(secret: string): void;
  close(): Promise<void>;
}

const STEPS: { status: MesCallback['status']; percent?: number }[] = [
  { status: 'created' },
  { status: 'in_production', percent: 25 },
  { status: 'in_production', percent: 50 },
  { status: 'in_production', percent: 75 },
  { status: 'completed', percent: 100 },
];

interface WorkOrder {
  workOrderId: string;
  orderId: string;
  step: number;
}

export async function startMesFake(options: MesFakeOptions): Promise<MesFake> {
  const stepMs = options.stepMs ?? 12_000;
  const pushes: MesPush[] = [];
  const callbacks: MesCallback[] = [];
  const workOrders = new Map<string, WorkOrder>();
  const seen = new Set<string>();
  let secrets: string[] = [];
  let closed = false;
  const signer = new Webhook(options.callbackSecret);

  function verify(body: string, headers: IncomingMessage['headers']): boolean {
    const h = { 'webhook-id': String(headers['webhook-id'] ?? ''), 'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''), 'webhook-signature': String(headers['webhook-signature'] ?? '') };
    return secrets.some((s) => {
      try {
        new Webhook(s).verify(body, h);
        return true;
      } catch {
        return false;
      }
    });
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'GET' && req.url === '/__inbox') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pushes, callbacks, workOrders: [...workOrders.values()] }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/webhooks') return void res.writeHead(404).end();
      const webhookId = String(req.headers['webhook-id'] ?? '');
      let parsed: { type?: string; data?: { orderId?: string; shipments?: { awaitingProduction?: boolean }[] } } = {};
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {
        /* recorded as unverified below */
      }
      const ok = verify(body, req.headers);
      pushes.push({ webhookId, type: parsed.type ?? '?', orderId: parsed.data?.orderId ?? '?', verified: ok });
      if (!ok) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      // At-least-once delivery: a webhook-id seen before is acknowledged and ignored.
      if (!seen.has(webhookId)) {
        seen.add(webhookId);
        const orderId = parsed.data?.orderId;
        if (parsed.type === 'order.ready_to_ship' && orderId && parsed.data?.shipments?.some((s) => s.awaitingProduction) && !workOrders.has(orderId)) {
          workOrders.set(orderId, { workOrderId: `WO-${orderId}`, orderId, step: 0 });
        }
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const hookUrl = `${url}/webhooks`;

  async function report(wo: WorkOrder): Promise<void> {
    const step = STEPS[wo.step];
    const payload = JSON.stringify({ workOrderId: wo.workOrderId, orderId: wo.orderId, status: step.status, ...(step.percent !== undefined ? { percent: step.percent } : {}), at: new Date().toISOString() });
    const id = `msg_${wo.workOrderId}_${wo.step}`;
    const now = new Date();
    let httpStatus = 0;
    try {
      const r = await fetch(`${options.fulfillmentUrl}/api/fulfillment/callbacks/mes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signer.sign(id, now, payload) },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      httpStatus = r.status;
    } catch {
      httpStatus = 0;
    }
    callbacks.push({ workOrderId: wo.workOrderId, orderId: wo.orderId, status: step.status, ...(step.percent !== undefined ? { percent: step.percent } : {}), httpStatus });
    if (httpStatus >= 200 && httpStatus < 300) wo.step++;
    if (wo.step >= STEPS.length) workOrders.delete(wo.orderId);
  }

  let busy = false;
  const timer = setInterval(() => {
    if (busy || closed) return;
    busy = true;
    void Promise.all([...workOrders.values()].map(report)).finally(() => (busy = false));
  }, stepMs);
  timer.unref();

  async function subscribeLoop(): Promise<void> {
    while (!closed && secrets.length === 0) {
      try {
        const auth = await options.authorization?.();
        const authHeaders: Record<string, string> = auth ? { authorization: auth } : {};
        const list = (await (await fetch(`${options.fulfillmentUrl}/api/fulfillment/webhooks/subscriptions`, { headers: authHeaders, signal: AbortSignal.timeout(5_000) })).json()) as { subscriptions: { id: string; url: string }[] };
        const mine = list.subscriptions.find((s) => s.url === hookUrl);
        const r = mine
          ? await fetch(`${options.fulfillmentUrl}/api/fulfillment/webhooks/subscriptions/${mine.id}/rotate-secret`, { method: 'POST', headers: { ...authHeaders, 'idempotency-key': `mes-rotate-${Date.now()}` } })
          : await fetch(`${options.fulfillmentUrl}/api/fulfillment/webhooks/subscriptions`, {
              method: 'POST',
              headers: { ...authHeaders, 'content-type': 'application/json', 'idempotency-key': `mes-subscribe-${hookUrl}` },
              body: JSON.stringify({ url: hookUrl, eventTypes: ['order.approved', 'order.ready_to_ship'], description: '工厂 MES (fake)' }),
            });
        if (r.ok) secrets = [((await r.json()) as { secret: string }).secret];
      } catch {
        /* fulfillment not up yet */
      }
      if (secrets.length === 0) await new Promise((r) => setTimeout(r, 2_000));
    }
  }
  if (options.subscribe !== false) void subscribeLoop();

  return {
    url,
    hookUrl,
    pushes,
    callbacks,
    useSecret: (s) => void (secrets = [s]),
    close: async () => {
      closed = true;
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
