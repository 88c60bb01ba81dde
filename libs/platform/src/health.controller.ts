import { Public } from '@flowline/auth';
import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { componentReadiness, componentsNotReady } from '@flowline/messaging';
import { getDataSourceToken } from '@nestjs/typeorm';
import { KafkaHealthIndicator, KafkaProbe, PostgresHealthIndicator } from '@flowline/observability';
import type { DataSource } from 'typeorm';

/**
 * Kubernetes probes. Liveness says only "the process answers" (restarting would not fix a database
 * outage); readiness checks the service's own database and Kafka, and answers 503 when either is
 * down so traffic goes elsewhere.
 */
@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Optional() @Inject(getDataSourceToken()) private readonly dataSource?: DataSource,
    @Optional() private readonly kafkaProbe?: KafkaProbe,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Kafka answer, and no background worker (consumer, relay) is waiting for them' })
  ready() {
    const checks: HealthIndicatorFunction[] = [];
    const { dataSource, kafkaProbe } = this;
    if (dataSource) checks.push(() => this.postgres.pingCheck('postgres', dataSource));
    if (kafkaProbe) checks.push(() => this.kafka.pingCheck('kafka', kafkaProbe));
    checks.push(() => this.workers());
    return this.health.check(checks);
  }

  /** Consumers and relays report themselves down while their database or broker is away. */
  private workers() {
    const indicator = this.indicators.check('workers');
    const down = componentsNotReady();
    const all = Object.keys(componentReadiness()).length;
    if (Object.keys(down).length > 0) return indicator.down({ down });
    return indicator.up({ components: all });
  }
}
