/**
 * Tracking's live stream (GET /api/tracking/stream, server-sent events) filtered to one stage:
 * records when each order was first pushed in that stage, i.e. when its projection row committed
 * and became visible to anyone reading tracking.
 */
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { authHeaders } from './auth';

export interface StageWatch {
  seenAt(orderId: string): number | undefined;
  count(): number;
  times(): number[];
  /** Set when the stream broke (the figures after that are incomplete). */
  error(): string | null;
  stop(): void;
}

/** Parses an SSE byte stream into (event, data) pairs; pure, for the unit test. */
export class SseParser {
  private buf = '';
  private event = 'message';
  private data: string[] = [];

  push(chunk: string, emit: (event: string, data: string) => void): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (line === '') {
        if (this.data.length > 0) emit(this.event, this.data.join('\n'));
        this.event = 'message';
        this.data = [];
      } else if (line.startsWith('event:')) this.event = line.slice(6).trim();
      else if (line.startsWith('data:')) this.data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}

export function watchStage(baseUrl: string, stage: string, channel?: string): Promise<StageWatch> {
  const u = new URL(`/api/tracking/stream?stage=${stage}${channel ? `&channel=${channel}` : ''}`, baseUrl);
  const seen = new Map<string, number>();
  const arrivals: number[] = [];
  let failure: string | null = null;
  let req: ClientRequest | null = null;
  let stopped = false;
  return new Promise((resolve, reject) => {
    req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: { accept: 'text/event-stream', ...authHeaders() } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`tracking stream: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      const parser = new SseParser();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) =>
        parser.push(chunk, (event, data) => {
          if (event !== 'order') return;
          const now = performance.now();
          try {
            const change = JSON.parse(data) as { order?: { orderId?: string; stage?: string } };
            const id = change.order?.orderId;
            if (id && change.order?.stage === stage && !seen.has(id)) {
              seen.set(id, now);
              arrivals.push(now);
            }
          } catch {
            /* not JSON: ignore */
          }
        }),
      );
      res.on('end', () => {
        if (!stopped) failure = 'tracking stream ended';
      });
      res.on('error', (e) => {
        if (!stopped) failure = e.message;
      });
      resolve({
        seenAt: (id) => seen.get(id),
        count: () => seen.size,
        times: () => arrivals,
        error: () => failure,
        stop() {
          stopped = true;
          req?.destroy();
        },
      });
    });
    req.on('error', (e) => {
      if (!stopped) failure = e.message;
      reject(e);
    });
    req.end();
  });
}
