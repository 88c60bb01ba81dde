import { Controller, ForbiddenException, Get, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { inScope, requirePrincipal, Requires, type Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { RequestValidationError } from '@flowline/platform';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { table, TRACKING_SCHEMA } from '../../infra/tracking-schema';

export class AuditQueryDto {
  @ApiPropertyOptional({ description: "The actor's id: the token subject that did it (a user, a customer id, a service client)" })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  actor?: string;

  @ApiPropertyOptional({ description: 'One order' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'orderId must be letters, digits, _ . : -' })
  orderId?: string;

  @ApiPropertyOptional({ description: 'At or after (ISO-8601)' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'Before (ISO-8601)' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 300) cursor?: string;
}

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'customer', 'service', 'channel', 'system'] }) kind!: string;
  @ApiProperty() id!: string;
  @ApiPropertyOptional() role?: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional({ description: 'The OAuth client of the token (service-to-service calls, the console, the portal)' }) clientId?: string;
}

export class AuditEntryDto {
  @ApiProperty() eventId!: string;
  @ApiProperty() orderId!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty() type!: string;
  @ApiProperty() context!: string;
  @ApiPropertyOptional({ type: AuditActorDto, nullable: true }) actor!: AuditActorDto | null;
  @ApiProperty() what!: { zh: string; en: string };
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) items!: AuditEntryDto[];
  @ApiPropertyOptional({ nullable: true }) nextCursor!: string | null;
}

interface Row {
  event_id: string;
  order_id: string;
  occurred_at: Date;
  type: string;
  context: string;
  actor_kind: string | null;
  actor_id: string | null;
  actor_role: string | null;
  actor_name: string | null;
  client_id: string | null;
  what_zh: string;
  what_en: string;
  shop_id: string | null;
}

/** Who may see everyone's actions (an actor other than themselves). */
const AUDITORS = ['admin', 'general_manager'];

/**
 * The audit trail (issue #16): who did what, per order and per actor, from tracking's timeline
 * (every event about an order, with the actor the verified token gave it: subject, role, client
 * id). Newest first, keyset-paginated. Staff see their shops' orders; a query by actor is for
 * admins and the general manager, or for one's own actions; customers have no audit access.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/audit')
export class AuditController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Requires('read', 'Order')
  @ApiOperation({ summary: 'Audit trail: who did what, by actor and/or order, in a time window (newest first)' })
  async list(@Query() q: AuditQueryDto, @Req() req: object): Promise<AuditPageDto> {
    const principal = requirePrincipal(req);
    if (!q.actor && !q.orderId) throw new RequestValidationError([{ field: 'actor', constraint: 'required', message: 'actor or orderId is required' }, { field: 'orderId', constraint: 'required', message: 'actor or orderId is required' }]);
    if (q.actor && q.actor !== principal.subject && !principal.roles.some((r) => AUDITORS.includes(r))) {
      throw new ForbiddenException({ code: 'FORBIDDEN', message: "only admins and the general manager read another actor's trail" });
    }
    if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) throw new RequestValidationError([{ field: 'from', constraint: 'beforeTo', message: 'from must be before to' }]);
    const limit = q.limit ?? 100;
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      let s = sql;
      for (const v of values) {
        params.push(v);
        s = s.replace('?', `$${params.length}`);
      }
      where.push(s);
    };
    if (q.actor) add('t.actor_id = ?', q.actor);
    if (q.orderId) add('t.order_id = ?', q.orderId);
    if (q.from) add('t.occurred_at >= ?::timestamptz', q.from);
    if (q.to) add('t.occurred_at < ?::timestamptz', q.to);
    if (cursor) add('(t.occurred_at, t.event_id) < (?::timestamptz, ?)', cursor.at, cursor.id);
    // Shop scope in SQL, so pages stay full: a shop-limited user sees their shops' orders only.
    if (!principal.shops.includes('*')) add('s.shop_id = ANY(?::text[])', principal.shops);
    params.push(limit + 1);
    const rows = (await this.dataSource.query(
      `SELECT t.event_id, t.order_id, t.occurred_at, t.type, t.context, t.actor_kind, t.actor_id, t.actor_role, t.actor_name,
              t.envelope->'actor'->>'clientId' AS client_id, t.what_zh, t.what_en, s.shop_id
         FROM ${table(TRACKING_SCHEMA, 'timeline_entry')} t
         LEFT JOIN ${table(TRACKING_SCHEMA, 'order_summary')} s ON s.order_id = t.order_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY t.occurred_at DESC, t.event_id DESC
        LIMIT $${params.length}`,
      params,
    )) as Row[];
    const page = rows.slice(0, limit).filter((r) => inScope(principal, { shopId: r.shop_id, orderId: r.order_id }));
    if (q.orderId && page.length === 0 && !cursor && !q.from && !q.to && !q.actor) await this.requireVisibleOrder(principal, q.orderId);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      items: page.map((r) => ({
        eventId: r.event_id,
        orderId: r.order_id,
        occurredAt: r.occurred_at.toISOString(),
        type: r.type,
        context: r.context,
        actor: r.actor_kind
          ? { kind: r.actor_kind, id: r.actor_id ?? '', ...(r.actor_role ? { role: r.actor_role } : {}), ...(r.actor_name ? { name: r.actor_name } : {}), ...(r.client_id ? { clientId: r.client_id } : {}) }
          : null,
        what: { zh: r.what_zh, en: r.what_en },
      })),
      nextCursor: last ? encodeCursor(last.occurred_at.toISOString(), last.event_id) : null,
    };
  }

  /** An order with no visible line: unknown or out of scope, both 404 (existence is not confirmed). */
  private async requireVisibleOrder(principal: Principal, orderId: string): Promise<void> {
    const found = (await this.dataSource.query(`SELECT shop_id FROM ${table(TRACKING_SCHEMA, 'order_summary')} WHERE order_id = $1`, [orderId])) as { shop_id: string }[];
    if (!found[0] || !inScope(principal, { shopId: found[0].shop_id, orderId })) throw new DomainError('order_not_found', `order ${orderId} is not tracked`, { orderId }, 'not_found');
  }
}

const encodeCursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof id === 'string') return { at, id };
  } catch {
    // falls through to the 400 below
  }
  throw new RequestValidationError([{ field: 'cursor', constraint: 'valid', message: 'cursor is not one this API gave' }]);
}
