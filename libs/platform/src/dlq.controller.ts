import { Requires } from '@flowline/auth';
import { BadRequestException, Body, Controller, Get, HttpCode, Injectable, NotFoundException, Param, Post, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { createKafka, DeadLetterTopicNotFound, EventPublisher, readDeadLetters, redriveDeadLetters, registerDeadLetterSource, selectDeadLetters, TopicNames, type DeadLetter } from '@flowline/messaging';
import { IsArray, IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import type { Admin, Kafka } from 'kafkajs';
import { PlatformConfig } from './config';

export class RedriveRequestDto {
  @ApiPropertyOptional({ description: 'Dead letters to redrive: `<partition>:<offset>` ids or event ids', type: [String] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  ids?: string[];

  @ApiPropertyOptional({ description: 'Redrive every dead letter of the topic' })
  @IsOptional()
  @IsBoolean()
  all?: boolean;
}

export class RedriveResultDto {
  @ApiProperty() redriven!: number;
  @ApiProperty() deadLetterTopic!: string;
}

/** A service without Kafka (the console) has no dead-letter topics: 404 naming why (it was a 500). */
function noDeadLetters(service: string): NotFoundException {
  return new NotFoundException(`${service} does not use Kafka, so it has no dead-letter topics; ask the service that consumes the topic`);
}

/**
 * Kafka access for the dead-letter admin endpoints and the `flowline_dlq_messages` gauge (one
 * admin client per process, connected on first use and again after a failure).
 */
@Injectable()
export class DeadLetterAdmin implements OnModuleInit, OnApplicationShutdown {
  readonly names = new TopicNames(process.env.KAFKA_TOPIC_PREFIX ?? '');
  private kafka?: Kafka;
  private admin?: Admin;
  private connected?: Promise<Admin>;
  private unregister?: () => void;

  constructor(private readonly config: PlatformConfig) {}

  onModuleInit(): void {
    if (!this.config.kafka) return;
    this.kafka = createKafka({ brokers: this.config.kafka.brokers, clientId: `${this.config.serviceName}-dlq` });
    this.admin = this.kafka.admin();
    // Counted on scrape through the same lazily connected client; an unreachable broker leaves the last values.
    const lazy = {
      listTopics: async () => (await this.client()).listTopics(),
      fetchTopicOffsets: async (topic: string) => (await this.client()).fetchTopicOffsets(topic),
    };
    this.unregister = registerDeadLetterSource({ names: this.names, admin: lazy });
  }

  async client(): Promise<Admin> {
    if (!this.admin) throw noDeadLetters(this.config.serviceName);
    const admin = this.admin;
    this.connected ??= admin.connect().then(
      () => admin,
      (e: unknown) => {
        this.connected = undefined;
        throw e;
      },
    );
    return this.connected;
  }

  kafkaClient(): Kafka {
    if (!this.kafka) throw noDeadLetters(this.config.serviceName);
    return this.kafka;
  }

  async onApplicationShutdown(): Promise<void> {
    this.unregister?.();
    if (this.connected) await this.admin?.disconnect().catch(() => undefined);
  }
}

/** Dead letters of a topic: list them, redrive them to the topic they failed on (same as `npm run dlq`). */
@ApiTags('operations')
// Dead-letter inspection and redrive are admin work (issue #16).
@Requires('admin', 'Admin')
@Controller('admin/dlq')
export class DeadLetterController {
  constructor(private readonly dlq: DeadLetterAdmin) {}

  @Get(':topic')
  @ApiOperation({ summary: 'Dead letters of <topic> (logical name, e.g. inventory.commands.v1): id, event, attempts, reason' })
  async list(@Param('topic') topic: string) {
    const letters = await this.read(topic);
    return letters.map(({ value: _value, ...l }) => l);
  }

  @Post(':topic/redrive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Redrive dead letters (by id, or all) to their source topic with their key and headers; consumers dedupe by event id' })
  async redrive(@Param('topic') topic: string, @Body() body: RedriveRequestDto): Promise<RedriveResultDto> {
    const letters = await this.read(topic);
    if (!body.all && !body.ids?.length) throw new BadRequestException('give ids or all: true');
    let chosen;
    try {
      chosen = selectDeadLetters(letters, body.ids ?? [], body.all === true);
    } catch (e) {
      throw new NotFoundException((e as Error).message);
    }
    const deadLetterTopic = this.dlq.names.physical(topic.endsWith('.dlq') ? topic : `${topic}.dlq`);
    const publisher = new EventPublisher({ kafka: this.dlq.kafkaClient(), topicPrefix: '' });
    await publisher.connect();
    try {
      return { redriven: await redriveDeadLetters(publisher, deadLetterTopic, chosen), deadLetterTopic };
    } finally {
      await publisher.disconnect();
    }
  }

  /** A topic without a dead-letter topic on the broker is a 404 naming it, not a 500. */
  private async read(topic: string): Promise<DeadLetter[]> {
    try {
      return await readDeadLetters(this.dlq.kafkaClient(), await this.dlq.client(), this.dlq.names, topic);
    } catch (e) {
      if (e instanceof DeadLetterTopicNotFound) throw new NotFoundException(e.message);
      throw e;
    }
  }
}
