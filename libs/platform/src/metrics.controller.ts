import { Public } from '@flowline/auth';
import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { metricsText } from '@flowline/observability';
import type { FastifyReply } from 'fastify';

/** Prometheus scrape endpoint: prom-client's default registry as text. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await metricsText();
    await reply.header('Content-Type', contentType).send(body);
  }
}
