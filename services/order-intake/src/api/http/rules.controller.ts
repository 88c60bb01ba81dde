import { Controller, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { inScope, requirePrincipal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { RuleDocumentsController, type RuleDocumentSave } from '@flowline/platform';
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

/**
 * Flow rules (自动审单规则) as versioned documents: read, validate, dry-run against an order,
 * save as a new version (docs/adr/0021-rule-documents.md). Reading and dry runs: every staff role
 * (read Rules); saving: admin and general manager (update Rules).
 */
@ApiTags('rules')
@Controller('api/rules/flow')
export class FlowRulesHttpController extends RuleDocumentsController<RuleSet, DryRunRulesDto>({
  kind: FLOW_RULES_KIND,
  noun: 'flow rules',
  bodies: { validate: ValidateRulesDto, dryRun: DryRunRulesDto, save: SaveRulesDto },
  responses: { overview: RulesOverviewDto, version: RuleVersionDocumentDto, validate: RulesValidDto, dryRun: RulesDryRunDto, save: CurrentRulesDto },
  summaries: {
    overview: 'The flow rules in force (the newest version, with its document) and every version, newest first',
    version: 'One version of the flow rules with its document',
    validate: 'Checks a document against the rule-set schema without saving it',
    dryRun: 'What the rules (the draft given, else the version in force) WOULD decide for the order in its current state; nothing is written',
    save: 'Saves the document as the next version (author = the token subject); in force at once here, on every instance within a second',
  },
  invalid: { type: RulesInvalidErrorDto, description: 'RULES_INVALID: the document fails the rule-set schema; details.problems names the path (and rule) of each problem' },
  dryRunNotFound: "ORDER_NOT_FOUND (also for an order outside the token's shops)",
  saveConflict: 'RULES_VERSION_CONFLICT: expectedVersion is no longer the newest (details.expected, details.actual)',
  revisionFields: (rs) => ({ ruleSetHash: rs.hash }),
}) {
  constructor(
    @Inject(FlowRuleStore) private readonly rules: FlowRuleStore,
    @Inject(PgOrderStore) private readonly orders: PgOrderStore,
  ) {
    super();
  }

  protected override store() {
    return this.rules.documents;
  }

  protected override validated(rs: RuleSet) {
    return { ruleSetVersion: rs.ruleSetVersion, ruleSetHash: rs.hash, rules: rs.rules.length };
  }

  protected override async preview(ruleSet: RuleSet, body: DryRunRulesDto, draft: boolean, req: FastifyRequest) {
    const principal = requirePrincipal(req);
    const { state } = await this.orders.load(body.orderId);
    const run = dryRunRules(ruleSet, state);
    const notFound = () => new DomainError('ORDER_NOT_FOUND', `order ${body.orderId} not found`, { orderId: body.orderId }, 'not_found');
    if (!run || !('order' in state) || !inScope(principal, { shopId: state.order.shopId, orderId: body.orderId })) throw notFound();
    return { orderId: body.orderId, ...run, facts: { ...run.facts }, draft };
  }

  /** FlowRuleStore refuses a ruleSetVersion that is already taken (422 at `ruleSetVersion`). */
  protected override saveVersion(input: RuleDocumentSave) {
    return this.rules.save(input);
  }
}
