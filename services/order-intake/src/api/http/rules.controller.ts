import { Body, Controller, Get, HttpCode, Inject, Param, ParseIntPipe, Post, Put, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { inScope, requirePrincipal, Requires } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { ProblemDetailsDto, RuleDocumentInvalid, RuleDocumentVersionConflict, type RuleDocumentRevision } from '@flowline/platform';
import type { FastifyRequest } from 'fastify';
import { dryRunRules } from '../../domain/rules/rule-dry-run';
import type { RuleSet } from '../../domain/rules/rule-set';
import { PgOrderStore } from '../../infra/pg-order-store';
import { FLOW_RULES_KIND, FlowRuleStore } from '../../infra/rule-set.store';
import {
  CurrentRulesDto,
  DryRunRulesDto,
  RulesDryRunDto,
  RulesInvalidErrorDto,
  RulesOverviewDto,
  RulesValidDto,
  RuleVersionDocumentDto,
  SaveRulesDto,
  ValidateRulesDto,
} from './dto/rules.dto';

const INVALID = ApiUnprocessableEntityResponse({ type: RulesInvalidErrorDto, description: 'RULES_INVALID: the document fails the rule-set schema; details.problems names the path (and rule) of each problem' });

function rulesInvalid(error: RuleDocumentInvalid): DomainError {
  return new DomainError('RULES_INVALID', error.message, { problems: error.problems }, 'invalid');
}

/** Runs fn, turning the store's refusals into the API's problems (422 RULES_INVALID, 409 RULES_VERSION_CONFLICT). */
async function refusals<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RuleDocumentInvalid) throw rulesInvalid(error);
    if (error instanceof RuleDocumentVersionConflict) {
      throw new DomainError('RULES_VERSION_CONFLICT', error.message, { expected: error.expected, actual: error.actual }, 'conflict');
    }
    throw error;
  }
}

function currentOf(r: RuleDocumentRevision<RuleSet>): CurrentRulesDto {
  return { version: r.version, label: r.label, hash: r.hash, author: r.author, reason: r.reason, createdAt: r.createdAt, document: r.document, ruleSetHash: r.value.hash };
}

/**
 * Flow rules (自动审单规则) as versioned documents: read, validate, dry-run against an order,
 * save as a new version (docs/adr/0021-rule-documents.md). Reading and dry runs: every staff role
 * (read Rules); saving: admin and general manager (update Rules).
 */
@ApiTags('rules')
@Controller('api/rules/flow')
export class FlowRulesHttpController {
  constructor(
    @Inject(FlowRuleStore) private readonly rules: FlowRuleStore,
    @Inject(PgOrderStore) private readonly orders: PgOrderStore,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The flow rules in force (the newest version, with its document) and every version, newest first' })
  @ApiOkResponse({ type: RulesOverviewDto })
  @Requires('read', 'Rules')
  async overview(): Promise<RulesOverviewDto> {
    return { kind: FLOW_RULES_KIND, current: currentOf(this.rules.documents.currentRevision()), versions: await this.rules.documents.versions() };
  }

  @Get('versions/:version')
  @ApiOperation({ summary: 'One version of the flow rules with its document' })
  @ApiParam({ name: 'version', example: 1 })
  @ApiOkResponse({ type: RuleVersionDocumentDto })
  @ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'RULES_VERSION_NOT_FOUND' })
  @Requires('read', 'Rules')
  async version(@Param('version', ParseIntPipe) version: number): Promise<RuleVersionDocumentDto> {
    const found = await this.rules.documents.version(version);
    if (!found) throw new DomainError('RULES_VERSION_NOT_FOUND', `flow rules version ${version} does not exist`, { version }, 'not_found');
    return found;
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Checks a document against the rule-set schema without saving it' })
  @ApiOkResponse({ type: RulesValidDto })
  @INVALID
  @Requires('read', 'Rules')
  async validate(@Body() body: ValidateRulesDto): Promise<RulesValidDto> {
    const rs = await refusals(() => this.rules.documents.validate(body.document));
    return { valid: true, ruleSetVersion: rs.ruleSetVersion, ruleSetHash: rs.hash, rules: rs.rules.length };
  }

  @Post('dry-run')
  @HttpCode(200)
  @ApiOperation({ summary: 'What the rules (the draft given, else the version in force) WOULD decide for the order in its current state; nothing is written' })
  @ApiOkResponse({ type: RulesDryRunDto })
  @ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'ORDER_NOT_FOUND (also for an order outside the token\'s shops)' })
  @INVALID
  @Requires('read', 'Rules')
  async dryRun(@Body() body: DryRunRulesDto, @Req() req: FastifyRequest): Promise<RulesDryRunDto> {
    const principal = requirePrincipal(req);
    const draft = body.document;
    const ruleSet = draft !== undefined ? await refusals(() => this.rules.documents.validate(draft)) : this.rules.current();
    const { state } = await this.orders.load(body.orderId);
    const run = dryRunRules(ruleSet, state);
    const notFound = () => new DomainError('ORDER_NOT_FOUND', `order ${body.orderId} not found`, { orderId: body.orderId }, 'not_found');
    if (!run || !('order' in state) || !inScope(principal, { shopId: state.order.shopId, orderId: body.orderId })) throw notFound();
    return { orderId: body.orderId, ...run, facts: { ...run.facts }, draft: draft !== undefined };
  }

  @Put()
  @ApiOperation({ summary: 'Saves the document as the next version (author = the token subject); in force at once here, on every instance within a second' })
  @ApiOkResponse({ type: CurrentRulesDto })
  @ApiConflictResponse({ type: ProblemDetailsDto, description: 'RULES_VERSION_CONFLICT: expectedVersion is no longer the newest (details.expected, details.actual)' })
  @INVALID
  @Requires('update', 'Rules')
  async save(@Body() body: SaveRulesDto, @Req() req: FastifyRequest): Promise<CurrentRulesDto> {
    const principal = requirePrincipal(req);
    const saved = await refusals(() => this.rules.save({ document: body.document, reason: body.reason, expectedVersion: body.expectedVersion, author: principal.subject }));
    return currentOf(saved);
  }
}
