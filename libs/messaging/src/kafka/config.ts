import './kafkajs-patch';
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type RetryOptions } from 'kafkajs';

/** Kafka settings every Flowline process reads from its environment. */
export interface MessagingConfig {
  /** `KAFKA_BROKERS`, comma separated (default `127.0.0.1:9092`). */
  brokers: string[];
  /** `KAFKA_CLIENT_ID` (default `flowline`). */
  clientId: string;
  /** `KAFKA_TOPIC_PARTITIONS`: partitions for topics we create (default 12). */
  partitions: number;
  /** `KAFKA_TOPIC_PREFIX`: prepended to every topic name (default empty; tests isolate with `testTopicPrefix()`). */
  topicPrefix: string;
  /** `KAFKA_REPLICATION_FACTOR` for topics we create (default 1: the dev broker is a single node). */
  replicationFactor: number;
}

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Reads {@link MessagingConfig} from `env` (default `process.env`). */
export function messagingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MessagingConfig {
  const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is empty');
  return {
    brokers,
    clientId: env.KAFKA_CLIENT_ID?.trim() || 'flowline',
    partitions: positiveInt(env.KAFKA_TOPIC_PARTITIONS, 12, 'KAFKA_TOPIC_PARTITIONS'),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    replicationFactor: positiveInt(env.KAFKA_REPLICATION_FACTOR, 1, 'KAFKA_REPLICATION_FACTOR'),
  };
}

export interface CreateKafkaOptions {
  brokers?: string[];
  clientId?: string;
  /** kafkajs log level (default WARN; `KAFKA_LOG_LEVEL` = nothing|error|warn|info|debug overrides). */
  logLevel?: KafkaLogLevel;
  /** Client-level retry (metadata, admin, consumer); the producer wrapper sets its own. */
  retry?: RetryOptions;
  connectionTimeout?: number;
  requestTimeout?: number;
}

const LOG_LEVELS: Record<string, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/**
 * A kafkajs client configured from the environment. One per process is enough; producers,
 * consumers and admins are created from it.
 */
export function createKafka(options: CreateKafkaOptions = {}): Kafka {
  const env = messagingConfigFromEnv();
  const envLevel = process.env.KAFKA_LOG_LEVEL ? LOG_LEVELS[process.env.KAFKA_LOG_LEVEL.toLowerCase()] : undefined;
  const config: KafkaConfig = {
    clientId: options.clientId ?? env.clientId,
    brokers: options.brokers ?? env.brokers,
    logLevel: options.logLevel ?? envLevel ?? KafkaLogLevel.WARN,
    connectionTimeout: options.connectionTimeout ?? 3_000,
    requestTimeout: options.requestTimeout ?? 30_000,
    retry: options.retry ?? { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  };
  return new Kafka(config);
}
