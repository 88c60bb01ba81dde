import { Agent, request } from 'node:http';
import { authHeaders } from './auth';

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A small keep-alive JSON client on node:http (no dependency): the open-loop phases send a few
 * thousand requests a second from one process, so connections are pooled per base URL.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets = 256) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  send<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<JsonResponse<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return this.sendBytes(method, path, payload, headers, timeoutMs).then(({ status, text, headers: h }) => {
      let parsed: unknown = text;
      if (text && String(h['content-type'] ?? '').includes('json')) {
        try {
          parsed = JSON.parse(text);
        } catch {
          /* keep the text */
        }
      }
      return { status, body: parsed as T, headers: h };
    });
  }

  /**
   * A fetch on this client's pooled connections, for openapi-fetch's `fetch` option: the generated
   * typed clients (@flowline/clients) then send over the same keep-alive pool.
   */
  readonly fetch = async (input: Request): Promise<Response> => {
    const url = new URL(input.url);
    const body = input.body ? Buffer.from(await input.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    input.headers.forEach((value, key) => (headers[key] = value));
    const r = await this.sendBytes(input.method, url.pathname + url.search, body, headers);
    const out = new Headers();
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
    return new Response(r.status === 204 || r.status === 304 ? null : r.text, { status: r.status, headers: out });
  };

  private sendBytes(method: string, path: string, payload: Buffer | undefined, headers: Record<string, string>, timeoutMs = 30_000): Promise<{ status: number; text: string; headers: JsonResponse['headers'] }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...authHeaders(),
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  post<T = unknown>(path: string, body: unknown, headers?: Record<string, string>): Promise<JsonResponse<T>> {
    return this.send<T>('POST', path, body, headers);
  }

  put<T = unknown>(path: string, body: unknown, headers?: Record<string, string>): Promise<JsonResponse<T>> {
    return this.send<T>('PUT', path, body, headers);
  }

  get<T = unknown>(path: string): Promise<JsonResponse<T>> {
    return this.send<T>('GET', path);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws with the status and body unless the response is 2xx. */
export function expectOk<T>(r: JsonResponse<T>, what: string): JsonResponse<T> {
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r;
}
