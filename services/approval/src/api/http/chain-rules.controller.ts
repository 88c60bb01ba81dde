import { Controller, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@flowline/domain';
import { RuleDocumentsController, type RuleDocumentSave } from '@flowline/platform';
import type { FastifyRequest } from 'fastify';
import { shopsOf } from '../actor';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { outOfOfficeDelegate, skipHolds, type ChainSet } from '../../domain/chains/chain-set';
import { ApprovalRuntime } from '../../infra/approval-runtime';
import { CHAINS_KIND, ChainSetStore } from '../../infra/chain-set.store';

const MAX_DOCUMENT = 200_000;

export class ChainDocumentDto {
  @ApiProperty({ description: 'The chain document (YAML, or JSON) as the author wrote it' })
  @IsString()
  @Length(1, MAX_DOCUMENT)
  document!: string;
}

export class SaveChainsDto extends ChainDocumentDto {
  @ApiProperty({ description: 'Why this version', example: '总经理审批 SLA 改为 4 小时' })
  @IsString()
  @Length(1, 500)
  reason!: string;

  @ApiProperty({ description: 'The version the edit started from; 409 RULES_VERSION_CONFLICT when another was saved since', example: 1 })
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  expectedVersion!: number;
}

export class DryRunChainsDto {
  @ApiPropertyOptional({ description: 'A draft to try; absent = the version in force' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_DOCUMENT)
  document?: string;

  @ApiProperty({ description: 'The chain an order would be sent to (order-intake\'s require_approval names it)', example: 'custom-order' })
  @IsString()
  @Length(1, 100)
  chain!: string;

  @ApiPropertyOptional({ description: "An order approval knows (its snapshot gives the grand total the steps' skip conditions read)", example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' })
  @IsOptional()
  @Matches(/^[0-9A-Za-z_-]{1,64}$/, { message: 'orderId must be an order id' })
  orderId?: string;

  @ApiPropertyOptional({ description: 'Grand total in fen when no order is given', example: 800000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  grandTotal?: number;
}

/** The steps an approval of `chain` would get now: skipped or not, who decides (after out-of-office delegation). */
export function chainPreview(set: ChainSet, chain: string, facts: { grandTotal?: number }, now: string) {
  const c = set.chains[chain];
  if (!c) return null;
  return {
    chainSetVersion: set.version,
    chainSetHash: set.hash,
    chain: c.id,
    facts,
    steps: c.steps.map((s) => {
      const delegates = (s.approvers ?? []).map((a) => ({ approver: a, delegateTo: outOfOfficeDelegate(set.outOfOffice, a, now) })).filter((d) => d.delegateTo !== null);
      return {
        id: s.id,
        ...(s.role ? { role: s.role } : {}),
        ...(s.approvers ? { approvers: s.approvers } : {}),
        quorum: s.quorum,
        slaMs: s.slaMs,
        skipped: skipHolds(s.skipWhen, facts),
        ...(delegates.length ? { delegated: delegates } : {}),
      };
    }),
  };
}

/** Opens the versioned chains on approval's database and puts them in force (before any command is consumed). */
@Injectable()
export class ChainRules implements OnModuleInit {
  private readonly log = new Logger('approval');
  store!: ChainSetStore;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ApprovalRuntime) private readonly runtime: ApprovalRuntime,
  ) {}

  async onModuleInit(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    this.store = await ChainSetStore.open(pool, {
      seedFile: this.runtime.settings.chainsPath,
      onChange: (r) => this.log.log(`approval chains v${r.version} in force: ${r.value.version} by ${r.author}`),
      onInvalid: (e) => this.log.error(`approval chains: a stored version cannot be used, the previous one stays in force: ${e.message}`),
    });
    this.runtime.chains.attach(this.store);
  }
}

/**
 * Approval chains (审批流) as versioned documents (docs/adr/0021-rule-documents.md): read, validate,
 * dry-run ("which chain and steps would this order get"), save as a new version. Reading and dry
 * runs: every staff role (read Rules); saving: admin and general manager (update Rules).
 */
@ApiTags('rules')
@Controller('api/rules/chains')
export class ChainRulesController extends RuleDocumentsController<ChainSet, DryRunChainsDto>({
  kind: CHAINS_KIND,
  noun: 'approval chains',
  bodies: { validate: ChainDocumentDto, dryRun: DryRunChainsDto, save: SaveChainsDto },
  summaries: {
    overview: 'The approval chains in force (the newest version, with its document) and every version, newest first',
    version: 'One version of the approval chains with its document',
    validate: 'Checks a document against the chain schema without saving it',
    dryRun: 'Which steps an approval of the chain would get now for the order (or grand total): skipped steps, approvers, delegation; nothing is written',
    save: 'Saves the document as the next version (author = the token subject); new approvals use it (running ones keep theirs)',
  },
  invalid: { description: 'RULES_INVALID: the document fails the chain schema; details.problems names the path of each problem' },
  dryRunNotFound: 'RULES_CHAIN_NOT_FOUND (no such chain) or ORDER_NOT_FOUND (approval has no snapshot of the order)',
  saveConflict: 'RULES_VERSION_CONFLICT: expectedVersion is no longer the newest',
}) {
  constructor(
    @Inject(ChainRules) private readonly chains: ChainRules,
    @Inject(ApprovalRuntime) private readonly runtime: ApprovalRuntime,
  ) {
    super();
  }

  protected override store() {
    return this.chains.store.documents;
  }

  protected override validated(set: ChainSet) {
    return { chainSetVersion: set.version, chains: Object.keys(set.chains) };
  }

  protected override async preview(set: ChainSet, body: DryRunChainsDto, draft: boolean, req: FastifyRequest) {
    let grandTotal = body.grandTotal;
    if (body.orderId) {
      const snapshot = await this.runtime.snapshots.get(body.orderId);
      // Another shop's order (for a shop-limited user) is answered as one approval has not seen.
      if (!snapshot || !(await this.runtime.queries.orderInShops(body.orderId, shopsOf(req)))) throw new DomainError('ORDER_NOT_FOUND', `approval has not seen order ${body.orderId}`, { orderId: body.orderId }, 'not_found');
      grandTotal = snapshot.totals.grandTotal;
    }
    const preview = chainPreview(set, body.chain, grandTotal !== undefined ? { grandTotal } : {}, await this.runtime.clock.now());
    if (!preview) throw new DomainError('RULES_CHAIN_NOT_FOUND', `no approval chain ${body.chain} in chain set ${set.version}`, { chain: body.chain, known: Object.keys(set.chains) }, 'not_found');
    return { ...preview, draft };
  }

  /** ChainSetStore refuses a chainSetVersion that is already taken (422 at `/chainSetVersion`). */
  protected override saveVersion(input: RuleDocumentSave) {
    return this.chains.store.save(input);
  }
}
