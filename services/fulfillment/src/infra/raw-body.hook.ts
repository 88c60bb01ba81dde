import { Readable } from 'node:stream';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Routes whose signature covers the exact bytes of the body (Standard Webhooks): the raw body is kept for them. */
export const RAW_BODY_PREFIXES = ['/api/fulfillment/callbacks/mes'];

export function rawBodyOf(req: FastifyRequest): string | undefined {
  return (req as FastifyRequest & { rawBody?: string }).rawBody;
}

/**
 * Keeps the raw body of signed callbacks (a JSON re-serialisation would not match the signed
 * bytes). A preParsing hook tees the payload for those routes only; every other route is untouched.
 */
@Injectable()
export class RawBodyHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify?.addHook) return;
    fastify.addHook('preParsing', async (req, _reply, payload) => {
      if (!RAW_BODY_PREFIXES.some((p) => req.url.startsWith(p))) return payload;
      const chunks: Buffer[] = [];
      for await (const chunk of payload) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      const raw = Buffer.concat(chunks);
      (req as FastifyRequest & { rawBody?: string }).rawBody = raw.toString('utf8');
      return Readable.from([raw]);
    });
  }
}
