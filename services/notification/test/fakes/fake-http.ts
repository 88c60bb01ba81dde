import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a fake saw it: accepted (what a person would receive) or refused (and why). */
export interface FakeRecord {
  at: string;
  accepted: boolean;
  /** Why it was refused (bad signature, wrong secret, ...). */
  reason?: string;
  [key: string]: unknown;
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeReply {
  status: number;
  json: unknown;
}

/** Queue of failures to inject: the next `count` requests answer `reply` instead of the normal handling. */
export interface InjectedFailure {
  count: number;
  status: number;
  json: unknown;
}

/**
 * A tiny HTTP fake: the provider's own routes plus `GET /__inbox` (what it received and refused),
 * `DELETE /__inbox` (also drops injected failures) and `POST /__control/fail` `{count, status, json}` (fail the next requests), so a
 * test in another process, or a person during `npm start`, can see and steer it.
 */
export class FakeHttpServer {
  readonly records: FakeRecord[] = [];
  private failures: InjectedFailure[] = [];
  private server?: Server;
  url = '';

  constructor(
    readonly name: string,
    private readonly handle: (req: FakeRequest, fake: FakeHttpServer) => Promise<FakeReply> | FakeReply,
  ) {}

  accepted(): FakeRecord[] {
    return this.records.filter((r) => r.accepted);
  }

  refused(): FakeRecord[] {
    return this.records.filter((r) => !r.accepted);
  }

  record(r: { accepted: boolean; reason?: string; [key: string]: unknown }): void {
    this.records.push({ at: new Date().toISOString(), ...r });
  }

  failNext(f: InjectedFailure): void {
    this.failures.push({ ...f });
  }

  /** Takes one injected failure if any is queued (providers call it where a real outage would hit). */
  takeFailure(): FakeReply | undefined {
    const f = this.failures[0];
    if (!f) return undefined;
    if (--f.count <= 0) this.failures.shift();
    return { status: f.status, json: f.json };
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const body = Buffer.concat(chunks).toString('utf8');
        const reply = async (): Promise<FakeReply> => {
          if (url.pathname === '/__inbox' && req.method === 'GET') return { status: 200, json: { name: this.name, received: this.accepted(), refused: this.refused() } };
          if (url.pathname === '/__inbox' && req.method === 'DELETE') {
            this.records.length = 0;
            this.failures = [];
            return { status: 204, json: null };
          }
          if (url.pathname === '/__control/fail' && req.method === 'POST') {
            this.failNext(JSON.parse(body) as InjectedFailure);
            return { status: 204, json: null };
          }
          return this.handle({ method: req.method ?? 'GET', url, headers: req.headers, body }, this);
        };
        reply().then(
          (r) => {
            res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8' });
            res.end(r.json === null ? '' : JSON.stringify(r.json));
          },
          (e: unknown) => {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: String(e) }));
          },
        );
      });
    });
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
