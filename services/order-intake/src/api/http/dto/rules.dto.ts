import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProblemDetailsDto } from '@flowline/platform';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

const MAX_DOCUMENT = 200_000;

export class ValidateRulesDto {
  @ApiProperty({ description: 'The rule document (YAML, or JSON) as the author wrote it', example: 'ruleSetVersion: "2025.12.2"\nrules: [...]' })
  @IsString()
  @Length(1, MAX_DOCUMENT)
  document!: string;
}

export class DryRunRulesDto {
  @ApiPropertyOptional({ description: 'A draft to try; absent = the version in force', example: 'ruleSetVersion: "2025.12.2"\nrules: [...]' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_DOCUMENT)
  document?: string;

  @ApiProperty({ description: 'The order to evaluate in its current state (nothing is written)', example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' })
  @IsString()
  @Matches(/^[0-9A-Za-z_-]{1,64}$/, { message: 'orderId must be an order id' })
  orderId!: string;
}

export class SaveRulesDto extends ValidateRulesDto {
  @ApiProperty({ description: 'Why this version (kept with it, shown in the version list)', example: '大促期间审批门槛提高到 5 万元' })
  @IsString()
  @Length(1, 500)
  reason!: string;

  @ApiProperty({ description: 'The version number the edit started from; 409 RULES_VERSION_CONFLICT when another version was saved since', example: 3 })
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  expectedVersion!: number;
}

/** One stored version (without its document). */
export class RuleVersionDto {
  @ApiProperty({ example: 2, description: 'Version number in this service (1 = seeded from the file)' }) version!: number;
  @ApiProperty({ example: '2025.12.2', nullable: true, type: String, description: 'The ruleSetVersion the document declares (recorded on every decision)' }) label!: string | null;
  @ApiProperty({ example: 'sha256:4f1c2a9b0d3e', description: 'sha256 of the document text' }) hash!: string;
  @ApiProperty({ example: 'admin', description: 'Token subject of who saved it; file:<name> when seeded from the service file' }) author!: string;
  @ApiProperty({ example: '大促期间审批门槛提高', description: 'Why' }) reason!: string;
  @ApiProperty({ example: '2026-12-05T03:00:00.000Z' }) createdAt!: string;
}

export class RuleVersionDocumentDto extends RuleVersionDto {
  @ApiProperty({ description: 'The document text of this version' }) document!: string;
}

export class CurrentRulesDto extends RuleVersionDocumentDto {
  @ApiProperty({ example: 'sha256:a80af180734f', description: 'The hash decisions record (ruleSetHash: document plus configured parameter overrides)' }) ruleSetHash!: string;
}

export class RulesOverviewDto {
  @ApiProperty({ example: 'order-intake.flow-rules' }) kind!: string;
  @ApiProperty({ type: () => CurrentRulesDto, description: 'The version in force (the newest)' }) current!: CurrentRulesDto;
  @ApiProperty({ type: () => [RuleVersionDto], description: 'Every version, newest first' }) versions!: RuleVersionDto[];
}

export class RulesValidDto {
  @ApiProperty({ example: true }) valid!: boolean;
  @ApiProperty({ example: '2025.12.2' }) ruleSetVersion!: string;
  @ApiProperty({ example: 'sha256:4f1c2a9b0d3e' }) ruleSetHash!: string;
  @ApiProperty({ example: 4 }) rules!: number;
}

export class RuleProblemDto {
  @ApiProperty({ example: 'rules[1].when.any[0].op', description: 'Where in the document' }) path!: string;
  @ApiProperty({ example: 'operator greaterThan does not apply to channel, which is a string' }) reason!: string;
  @ApiPropertyOptional({ example: 'approval-large-or-custom' }) ruleId?: string;
}

export class RulesInvalidDetailsDto {
  @ApiProperty({ type: () => [RuleProblemDto] }) problems!: RuleProblemDto[];
}

/** 422 RULES_INVALID: `details.problems` names the path of each problem in the document. */
export class RulesInvalidErrorDto extends ProblemDetailsDto {
  @ApiProperty({ type: () => RulesInvalidDetailsDto }) declare details: RulesInvalidDetailsDto & Record<string, unknown>;
}

export class RuleDecisionDto {
  @ApiProperty({ example: 'approval-large-or-custom' }) ruleId!: string;
  @ApiProperty({ example: '2025.12.2' }) ruleSetVersion!: string;
  @ApiProperty({ example: 'sha256:4f1c2a9b0d3e' }) ruleSetHash!: string;
  @ApiProperty({ example: 'require_approval', enum: ['require_approval', 'require_qc', 'free_shipping', 'hold_for_review', 'priority', 'ready_to_ship'] }) decision!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { chain: 'custom-order' } }) params?: Record<string, unknown>;
}

export class DryRunOutcomeDto {
  @ApiProperty({ enum: ['hold', 'approval', 'release', 'blocked'], description: 'hold: put on hold for review; approval: needs the chain; release: to the warehouse; blocked: no rule lets it ship yet (e.g. unpaid)' })
  kind!: 'hold' | 'approval' | 'release' | 'blocked';
  @ApiPropertyOptional({ example: 'approval-large-or-custom' }) ruleId?: string;
  @ApiPropertyOptional({ example: 'customer is tagged blocked' }) reason?: string;
  @ApiPropertyOptional({ example: 'custom-order' }) chain?: string;
  @ApiPropertyOptional({ enum: ['normal', 'high'] }) priority?: 'normal' | 'high';
  @ApiPropertyOptional() freeShipping?: boolean;
  @ApiPropertyOptional() requiresQc?: boolean;
}

export class RulesDryRunDto {
  @ApiProperty({ example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' }) orderId!: string;
  @ApiProperty({ example: '2025.12.2' }) ruleSetVersion!: string;
  @ApiProperty({ example: 'sha256:4f1c2a9b0d3e' }) ruleSetHash!: string;
  @ApiProperty({ example: 'paid', description: "The order's stage when it was read" }) stage!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The facts the rules read (channel, totals.grandTotal, customer.tags, ...)' }) facts!: Record<string, unknown>;
  @ApiProperty({ type: () => [RuleDecisionDto], description: 'Every decision of every rule that fires, in document order' }) fired!: RuleDecisionDto[];
  @ApiProperty({ type: () => DryRunOutcomeDto, description: 'What the audit (审单) would do with them now' }) outcome!: DryRunOutcomeDto;
  @ApiProperty({ description: 'true when a draft was evaluated, false for the version in force' }) draft!: boolean;
}
