import { resolve } from 'node:path';
import { Controller, Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { inScope, requirePrincipal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import type { FastifyRequest } from 'fastify';
import { documentHash, RuleDocumentsController, RuleDocumentStore, type RuleDocumentRevision, type RuleDocumentSave } from '@flowline/platform';
import { IsOptional, IsString, Length, Matches, IsInt, Max, Min } from 'class-validator';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { planNotifications } from '../../domain/notification-rules.policy';
import type { RuleSet } from '../../domain/notification.types';
import { configDir, NOTIFICATION_RULES_KIND, notificationRulesKind } from '../../infra/notification-config';
import { NotificationRuntime } from '../../infra/notification-runtime';
import { NotificationStore } from '../../infra/notification-store';
import { orderNotKnown } from '../order-scope';

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

/**
 * Notification rules (rules.yaml) as versioned documents (docs/adr/0021-rule-documents.md): read,
 * validate, dry-run ("which messages would this event send for this order"), save as a new version.
 * Templates and the staff directory still come from their files.
 */
@ApiTags('rules')
@Controller('api/rules/notifications')
export class NotificationRulesController extends RuleDocumentsController<RuleSet, DryRunNotificationRulesDto>({
  kind: NOTIFICATION_RULES_KIND,
  noun: 'notification rules',
  bodies: { validate: NotificationRulesDocumentDto, dryRun: DryRunNotificationRulesDto, save: SaveNotificationRulesDto },
  summaries: {
    overview: 'The notification rules in force (newest version, with its document) and every version, newest first',
    version: 'One version of the notification rules with its document',
    validate: 'Checks a document against the rules schema and the templates in use, without saving it',
    dryRun: 'Which messages (rule, template, channel, recipient) the event would plan for the order now; nothing is sent',
    save: 'Saves the document as the next version (author = the token subject); in force here at once, on every instance within a second',
  },
  invalid: { description: 'RULES_INVALID: the document fails the rules schema or names a template/channel that does not fit; details.problems names each path' },
  dryRunNotFound: 'ORDER_NOT_KNOWN: notification has not seen the order',
  saveConflict: 'RULES_VERSION_CONFLICT: expectedVersion is no longer the newest',
}) {
  constructor(
    @Inject(NotificationRules) private readonly rules: NotificationRules,
    @Inject(NotificationRuntime) private readonly rt: NotificationRuntime,
  ) {
    super();
  }

  protected override store() {
    return this.rules.store;
  }

  protected override validated(rules: RuleSet) {
    return { rulesVersion: rules.version, rules: rules.rules.length };
  }

  protected override async preview(rules: RuleSet, body: DryRunNotificationRulesDto, draft: boolean, req: FastifyRequest) {
    const facts = await NotificationStore.facts(this.rt.pool, body.orderId);
    // Another shop's order answers as one notification has not seen (ADR 0018).
    if (!facts || !inScope(requirePrincipal(req), { shopId: facts.shopId ?? null, orderId: body.orderId })) throw orderNotKnown(body.orderId);
    const planned = planNotifications({ eventId: 'dry-run', type: body.event, occurredAt: new Date().toISOString(), data: { orderId: body.orderId } }, facts, rules, this.rt.config.staff);
    return {
      rulesVersion: rules.version,
      event: body.event,
      orderId: body.orderId,
      draft,
      planned: planned.map((p) => ({ ruleId: p.ruleId, template: p.template, channel: p.channel, recipient: p.recipient.kind === 'customer' ? { kind: 'customer' } : { kind: 'staff', staffId: p.recipient.staffId, name: p.recipient.name } })),
    };
  }

  /** A rules version name (the document's `version`) is used once: a reused one is 422 at `/version`. */
  protected override async saveVersion(input: RuleDocumentSave) {
    const next = this.rules.store.validate(input.document);
    const used = (await this.rules.store.versions()).find((v) => v.label === next.version);
    if (used) throw new DomainError('RULES_INVALID', `rules version "${next.version}" is already version ${used.version}'s`, { problems: [{ path: '/version', reason: `"${next.version}" is already version ${used.version}'s; give this version a new version` }] }, 'invalid');
    return this.rules.store.save(input);
  }
}
