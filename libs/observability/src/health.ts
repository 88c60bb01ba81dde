import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type Admin, Kafka, logLevel } from 'kafkajs';

/** Anything that runs SQL: a pg Pool or Client, or a TypeORM DataSource. */
export interface SqlQueryable {
  query(sql: string): Promise<unknown>;
}

/** Default time a readiness probe waits for one dependency. */
export const HEALTH_TIMEOUT_MS = 2_000;

/**
 * Readiness of PostgreSQL: `SELECT 1` over the service's pool or DataSource. Down on error or when
 * the answer takes longer than the timeout (a hung connection must not hang the probe).
 */
@Injectable()
export class PostgresHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  pingCheck<const Key extends string>(key: Key, target: SqlQueryable, timeoutMs = HEALTH_TIMEOUT_MS) {
    return this.health
      .check(key)
      .attempt(async () => {
        await target.query('SELECT 1');
      })
      .withTimeout(timeoutMs);
  }
}

export interface KafkaProbeOptions {
  brokers: string[];
  clientId?: string;
  /** Per-connection and per-request timeout of the probe's admin client. */
  timeoutMs?: number;
}

/** What a successful probe saw. */
export interface KafkaClusterView {
  clusterId: string;
  brokers: number;
  controller: number | null;
}

/**
 * A Kafka admin client kept for health probes: connects on first use, `describeCluster` per probe,
 * no retries (a probe must answer quickly), and starts over after any failure.
 */
export class KafkaProbe {
  private admin?: Admin;
  private connecting?: Promise<Admin>;
  private readonly kafka: Kafka;

  constructor(private readonly options: KafkaProbeOptions) {
    const timeout = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'flowline-health',
      brokers: options.brokers,
      connectionTimeout: timeout,
      requestTimeout: timeout,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
  }

  get brokers(): string[] {
    return this.options.brokers;
  }

  async describe(): Promise<KafkaClusterView> {
    try {
      const admin = await this.connected();
      const cluster = await admin.describeCluster();
      return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, controller: cluster.controller };
    } catch (error) {
      await this.reset();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private connected(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        await admin.disconnect().catch(() => undefined);
        throw error;
      }
      this.admin = admin;
      return admin;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async reset(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}

/** Readiness of Kafka: the broker answers `describeCluster` within the timeout. */
@Injectable()
export class KafkaHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  pingCheck<const Key extends string>(key: Key, probe: KafkaProbe, timeoutMs = HEALTH_TIMEOUT_MS) {
    return this.health
      .check(key)
      .attempt(async () => {
        const view = await probe.describe();
        return { brokers: view.brokers };
      })
      .withTimeout(timeoutMs);
  }
}
