import { resolve } from 'node:path';
import { Body, Controller, Get, HttpCode, Inject, Injectable, Logger, Param, ParseIntPipe, Post, Put, Req, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { requirePrincipal, Requires } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { documentHash, ProblemDetailsDto, RuleDocumentInvalid, RuleDocumentStore, RuleDocumentVersionConflict, type RuleDocumentRevision } from '@flowline/platform';
import { IsOptional, IsString, Length, Matches, IsInt, Max, Min } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { planNotifications } from '../../domain/notification-rules.policy';
import type { RuleSet } from '../../domain/notification.types';
import { configDir, NOTIFICATION_RULES_KIND, notificationRulesKind } from '../../infra/notification-config';
import { NotificationRuntime } from '../../infra/notification-runtime';
import { NotificationStore } from '../../infra/notification-store';

const MAX_DOCUMENT = 200_000;

export class NotificationRulesDocumentDto {
  @ApiProperty({ description: 'rules.yaml as the author wrote it' })
  @IsString()
  @Length(1, MAX_DOCUMENT)
  document!: string;
}

export class SaveNotificationRulesDto extends NotificationRulesDocumentDto {
  @ApiProperty({ description: 'Why this version', example: '大额订单通知店长' })
  @IsString()
  @Length(1, 500)
  reason!: string;

  @ApiProperty({ description: 'The version the edit started from; 409 RULES_VERSION_CONFLICT when another was saved since', example: 1 })
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  expectedVersion!: number;
}

export class DryRunNotificationRulesDto {
  @ApiPropertyOptional({ description: 'A draft to try; absent = the version in force' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_DOCUMENT)
  document?: string;

  @ApiProperty({ description: 'The event type that would arrive', example: 'OrderShipped' })
  @Matches(/^[A-Z][A-Za-z]{1,80}$/, { message: 'event must be an event type such as OrderShipped' })
  event!: string;

  @ApiProperty({ description: 'An order notification has seen (its facts: channel, grand total, tags, customer)', example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' })
  @Matches(/^[0-9A-Za-z_-]{1,64}$/, { message: 'orderId must be an order id' })
  orderId!: string;
}

/** Opens the versioned notification rules on notification's database and keeps the runtime's config on the newest. */
@Injectable()
export class NotificationRules implements OnModuleInit, BeforeApplicationShutdown {
  private readonly log = new Logger('notification');
  store!: RuleDocumentStore<RuleSet>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(NotificationRuntime) private readonly runtime: NotificationRuntime,
  ) {}

  async onModuleInit(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const base = () => this.runtime.config;
    this.store = await RuleDocumentStore.open(pool, notificationRulesKind(() => ({ templates: base().templates, staff: base().staff })), {
      seedFile: resolve(configDir(), 'rules.yaml'),
      onChange: (r) => {
        this.apply(r);
        this.log.log(`notification rules v${r.version} in force: ${r.value.version} by ${r.author}`);
      },
      onInvalid: (e) => this.log.error(`notification rules: a stored version cannot be used, the previous one stays in force: ${e.message}`),
    });
    this.apply(this.store.currentRevision());
  }

  /** Stops polling before the runtime ends the pool. */
  beforeApplicationShutdown(): void {
    this.store?.close();
  }

  /** The runtime reads `config` on every event: a new object with the rules in force (and a hash that says so). */
  private apply(r: RuleDocumentRevision<RuleSet>): void {
    const c = this.runtime.config;
    this.runtime.config = { ...c, rules: r.value, hash: documentHash(`${c.templates.version}\0${c.staff.version}\0${r.hash}`) };
  }
}

async function refusals<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RuleDocumentInvalid) throw new DomainError('RULES_INVALID', error.message, { problems: error.problems }, 'invalid');
    if (error instanceof RuleDocumentVersionConflict) throw new DomainError('RULES_VERSION_CONFLICT', error.message, { expected: error.expected, actual: error.actual }, 'conflict');
    throw error;
  }
}

const currentOf = (r: RuleDocumentRevision<RuleSet>) => ({ version: r.version, label: r.label, hash: r.hash, author: r.author, reason: r.reason, createdAt: r.createdAt, document: r.document });
const INVALID = ApiUnprocessableEntityResponse({ type: ProblemDetailsDto, description: 'RULES_INVALID: the document fails the rules schema or names a template/channel that does not fit; details.problems names each path' });

/**
 * Notification rules (rules.yaml) as versioned documents (docs/adr/0021-rule-documents.md): read,
 * validate, dry-run ("which messages would this event send for this order"), save as a new version.
 * Templates and the staff directory still come from their files.
 */
@ApiTags('rules')
@Controller('api/rules/notifications')
export class NotificationRulesController {
  constructor(
    @Inject(NotificationRules) private readonly rules: NotificationRules,
    @Inject(NotificationRuntime) private readonly rt: NotificationRuntime,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The notification rules in force (newest version, with its document) and every version, newest first' })
  @Requires('read', 'Rules')
  async overview() {
    return { kind: NOTIFICATION_RULES_KIND, current: currentOf(this.rules.store.currentRevision()), versions: await this.rules.store.versions() };
  }

  @Get('versions/:version')
  @ApiOperation({ summary: 'One version of the notification rules with its document' })
  @ApiParam({ name: 'version', example: 1 })
  @ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'RULES_VERSION_NOT_FOUND' })
  @Requires('read', 'Rules')
  async version(@Param('version', ParseIntPipe) version: number) {
    const found = await this.rules.store.version(version);
    if (!found) throw new DomainError('RULES_VERSION_NOT_FOUND', `notification rules version ${version} does not exist`, { version }, 'not_found');
    return found;
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Checks a document against the rules schema and the templates in use, without saving it' })
  @INVALID
  @Requires('read', 'Rules')
  async validate(@Body() body: NotificationRulesDocumentDto) {
    const rules = await refusals(() => this.rules.store.validate(body.document));
    return { valid: true, rulesVersion: rules.version, rules: rules.rules.length };
  }

  @Post('dry-run')
  @HttpCode(200)
  @ApiOperation({ summary: 'Which messages (rule, template, channel, recipient) the event would plan for the order now; nothing is sent' })
  @ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'ORDER_NOT_KNOWN: notification has not seen the order' })
  @INVALID
  @Requires('read', 'Rules')
  async dryRun(@Body() body: DryRunNotificationRulesDto) {
    const draft = body.document;
    const rules = draft !== undefined ? await refusals(() => this.rules.store.validate(draft)) : this.rules.store.current();
    const facts = await NotificationStore.facts(this.rt.pool, body.orderId);
    if (!facts) throw new DomainError('ORDER_NOT_KNOWN', `order ${body.orderId} has not been seen by notification`, { orderId: body.orderId }, 'not_found');
    const planned = planNotifications({ eventId: 'dry-run', type: body.event, occurredAt: new Date().toISOString(), data: { orderId: body.orderId } }, facts, rules, this.rt.config.staff);
    return {
      rulesVersion: rules.version,
      event: body.event,
      orderId: body.orderId,
      draft: draft !== undefined,
      planned: planned.map((p) => ({ ruleId: p.ruleId, template: p.template, channel: p.channel, recipient: p.recipient.kind === 'customer' ? { kind: 'customer' } : { kind: 'staff', staffId: p.recipient.staffId, name: p.recipient.name } })),
    };
  }

  @Put()
  @ApiOperation({ summary: 'Saves the document as the next version (author = the token subject); in force here at once, on every instance within a second' })
  @ApiConflictResponse({ type: ProblemDetailsDto, description: 'RULES_VERSION_CONFLICT: expectedVersion is no longer the newest' })
  @INVALID
  @Requires('update', 'Rules')
  async save(@Body() body: SaveNotificationRulesDto, @Req() req: FastifyRequest) {
    const principal = requirePrincipal(req);
    const next = await refusals(() => this.rules.store.validate(body.document));
    const used = (await this.rules.store.versions()).find((v) => v.label === next.version);
    if (used) throw new DomainError('RULES_INVALID', `rules version "${next.version}" is already version ${used.version}'s`, { problems: [{ path: '/version', reason: `"${next.version}" is already version ${used.version}'s; give this version a new version` }] }, 'invalid');
    return currentOf(await refusals(() => this.rules.store.save({ document: body.document, reason: body.reason, expectedVersion: body.expectedVersion, author: principal.subject })));
  }
}
