/**
 * The naive CRUD baseline our users compare us with: "one Postgres table and a stock column".
 * One transaction per order: insert the order and its lines, decrement stock conditionally,
 * write a status row. No event log, no Kafka, no read side. Served over HTTP like Flowline.
 *
 * Run: node -r @swc-node/register bench/baseline/server.ts  (BASELINE_PORT, DATABASE_URL)
 */
import Fastify from 'fastify';
import { Client, Pool } from 'pg';
import { ulid } from 'ulid';

interface LineIn {
  sku: string;
  quantity: number;
  unitPrice: number;
  lineDiscount?: number;
}
interface OrderIn {
  channel: string;
  channelOrderId: string;
  lines: LineIn[];
  shippingFee?: number;
  orderDiscount?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  id text PRIMARY KEY, channel text NOT NULL, channel_order_id text NOT NULL,
  total bigint NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel, channel_order_id));
CREATE TABLE IF NOT EXISTS order_lines (
  order_id text NOT NULL REFERENCES orders(id), line_no int NOT NULL, sku text NOT NULL,
  quantity int NOT NULL, unit_price bigint NOT NULL, PRIMARY KEY (order_id, line_no));
CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, on_hand int NOT NULL CHECK (on_hand >= 0));
CREATE TABLE IF NOT EXISTS order_status (
  order_id text NOT NULL, status text NOT NULL, at timestamptz NOT NULL DEFAULT now());
`;

export async function ensureBaselineDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = u.pathname.slice(1);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(SCHEMA);
  } finally {
    await c.end();
  }
}

export async function startBaseline(opts: { port: number; databaseUrl: string; poolSize?: number }) {
  await ensureBaselineDatabase(opts.databaseUrl);
  const pool = new Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 20 });
  const app = Fastify({ logger: false, bodyLimit: 1_048_576 });

  app.post('/api/orders', async (req, reply) => {
    const body = req.body as OrderIn;
    if (!body || typeof body.channel !== 'string' || !Array.isArray(body.lines) || body.lines.length === 0) {
      return reply.code(400).send({ message: 'channel and lines are required' });
    }
    const total =
      body.lines.reduce((s, l) => s + l.quantity * l.unitPrice - (l.lineDiscount ?? 0), 0) +
      (body.shippingFee ?? 0) -
      (body.orderDiscount ?? 0);
    const id = ulid();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const ins = await client.query(
        `INSERT INTO orders (id, channel, channel_order_id, total, status) VALUES ($1, $2, $3, $4, 'placed')
         ON CONFLICT (channel, channel_order_id) DO NOTHING RETURNING id`,
        [id, body.channel, body.channelOrderId, total],
      );
      if (ins.rowCount === 0) {
        await client.query('ROLLBACK');
        const existing = await pool.query('SELECT id, status FROM orders WHERE channel = $1 AND channel_order_id = $2', [
          body.channel,
          body.channelOrderId,
        ]);
        return reply.code(200).send(existing.rows[0]);
      }
      let status = 'ready_to_ship';
      for (const [i, l] of body.lines.entries()) {
        await client.query('INSERT INTO order_lines VALUES ($1, $2, $3, $4, $5)', [id, i, l.sku, l.quantity, l.unitPrice]);
        const dec = await client.query('UPDATE stock SET on_hand = on_hand - $2 WHERE sku = $1 AND on_hand >= $2', [l.sku, l.quantity]);
        if (dec.rowCount === 0) status = 'exception';
      }
      await client.query('UPDATE orders SET status = $2 WHERE id = $1', [id, status]);
      await client.query('INSERT INTO order_status (order_id, status) VALUES ($1, $2)', [id, status]);
      await client.query('COMMIT');
      return reply.code(201).send({ id, status, total });
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  });

  app.get('/api/orders/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const r = await pool.query('SELECT id, status, total FROM orders WHERE id = $1', [id]);
    if (r.rowCount === 0) return reply.code(404).send({ message: `order ${id} not found` });
    return r.rows[0];
  });

  app.post('/api/stock/:sku', async (req) => {
    const { sku } = req.params as { sku: string };
    const { onHand } = req.body as { onHand: number };
    await pool.query('INSERT INTO stock (sku, on_hand) VALUES ($1, $2) ON CONFLICT (sku) DO UPDATE SET on_hand = $2', [sku, onHand]);
    return { sku, onHand };
  });

  app.get('/health/ready', async () => ({ status: 'ok' }));

  await app.listen({ port: opts.port, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${opts.port}`,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

if (require.main === module) {
  const url = process.env.DATABASE_URL
    ? Object.assign(new URL(process.env.DATABASE_URL), { pathname: `/${process.env.BASELINE_DATABASE ?? 'flowline_baseline'}` }).toString()
    : `postgres://postgres@127.0.0.1:5432/${process.env.BASELINE_DATABASE ?? 'flowline_baseline'}`;
  startBaseline({ port: Number(process.env.BASELINE_PORT ?? 3100), databaseUrl: url }).then(
    (s) => console.log(`baseline CRUD serving on ${s.url}`),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
