import { Body, Controller, Module, Post } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelGatewayConfigFromEnv } from '../../infra/channel-gateway.config';
import { DEFAULT_IMPORT_BODY_LIMIT_BYTES, limitImportBody } from './import-body-limit';

// The service keeps 1 MiB (BODY_LIMIT_BYTES) for its commands; the upload route alone takes a whole
// export base64 in JSON (a 5,000-row Pinduoduo file is 1.3 MB, ~1.8 MB as base64). Wired as
// ChannelGatewayModule does it: from a module's constructor, before Nest registers the routes.

const LIMIT = 4 * 1024 * 1024;

@Controller('api')
class RoutesController {
  @Post('imports')
  upload(@Body() body: { file?: { contentBase64?: string } }) {
    return { bytes: body.file?.contentBase64?.length ?? 0 };
  }

  @Post('quarantine/x/fix')
  fix(@Body() body: { edits?: unknown[] }) {
    return { edits: body.edits?.length ?? 0 };
  }
}

@Module({ controllers: [RoutesController] })
class LimitedModule {
  constructor(http: HttpAdapterHost) {
    limitImportBody(http.httpAdapter.getInstance<FastifyInstance>(), LIMIT);
  }
}

describe('body limit of the upload route', () => {
  let app: NestFastifyApplication;
  let url = '';
  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(LimitedModule, new FastifyAdapter({ bodyLimit: 1_048_576 }), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const upload = (bytes: number) => ({ channel: 'pinduoduo', file: { name: 'pdd.csv', contentBase64: 'A'.repeat(bytes) } });

  it('takes a 2 MB export on POST /api/imports while every other route keeps the 1 MiB limit', async () => {
    const res = await post('/api/imports', upload(2_000_000));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ bytes: 2_000_000 });
    expect((await post('/api/quarantine/x/fix', { edits: ['x'.repeat(2_000_000)] })).status).toBe(413);
  });

  it('an upload over the import limit is 413 saying the limit and what to do instead', async () => {
    const res = await post('/api/imports', upload(LIMIT + 10));
    expect(res.status).toBe(413);
    const body = (await res.json()) as { detail: string; limitBytes: number };
    expect(body.limitBytes).toBe(LIMIT);
    expect(body.detail).toContain('4 MiB');
    expect(body.detail).toContain('npm run import');
    expect(body.detail).toContain('split the export');
  });

  it('CHANNEL_IMPORT_BODY_LIMIT_BYTES sets it (16 MiB by default); nonsense is refused at start', () => {
    expect(channelGatewayConfigFromEnv({}).importBodyLimitBytes).toBe(DEFAULT_IMPORT_BODY_LIMIT_BYTES);
    expect(DEFAULT_IMPORT_BODY_LIMIT_BYTES).toBe(16 * 1024 * 1024);
    expect(channelGatewayConfigFromEnv({ CHANNEL_IMPORT_BODY_LIMIT_BYTES: '33554432' }).importBodyLimitBytes).toBe(33_554_432);
    expect(() => channelGatewayConfigFromEnv({ CHANNEL_IMPORT_BODY_LIMIT_BYTES: '16MB' })).toThrow(/CHANNEL_IMPORT_BODY_LIMIT_BYTES/);
  });
});
