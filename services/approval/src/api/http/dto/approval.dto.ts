import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsNotEmpty, IsOptional, IsString, IsUrl, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ROLES } from '@flowline/auth';
import { ID_PATTERN, PageLimit } from '@flowline/platform';

/** A file attached to a decision (design drawing, quote). */
export class AttachmentDto {
  @ApiProperty({ example: 'drawing-v2.pdf' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiProperty({ example: 'https://files.example.com/drawing-v2.pdf' })
  @IsUrl({ require_tld: false })
  url!: string;
}

export class ApproveDto {
  @ApiPropertyOptional({ example: '设计可行' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  comment?: string;

  @ApiPropertyOptional({ type: [AttachmentDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => AttachmentDto)
  attachments?: AttachmentDto[];
}

export class RejectDto {
  @ApiProperty({ example: '成本超出预算', description: 'Required: shown on the order timeline.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason!: string;
}

export class ReturnDto {
  @ApiProperty({ example: '图纸尺寸需修改', description: 'What must change before the step decides again.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  comment!: string;

  @ApiPropertyOptional({ type: [AttachmentDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => AttachmentDto)
  attachments?: AttachmentDto[];
}

export class DelegateDto {
  @ApiProperty({ example: 'u-design-02', description: 'User id of the person who decides instead.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  @Matches(ID_PATTERN)
  to!: string;

  @ApiPropertyOptional({ example: '休假' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  reason?: string;
}

export class ResubmitDto {
  @ApiPropertyOptional({ example: '已按意见修改图纸' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  comment?: string;
}

export class BulkItemDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(100) @Matches(ID_PATTERN) approvalId!: string;
  @ApiProperty({ example: 'design_review' }) @IsString() @IsNotEmpty() @MaxLength(64) @Matches(ID_PATTERN) step!: string;
}

export class BulkApproveDto {
  @ApiProperty({ type: [BulkItemDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => BulkItemDto)
  items!: BulkItemDto[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  comment?: string;
}

export class PendingQueryDto {
  @ApiPropertyOptional({ enum: ROLES, description: 'Only the steps waiting for this role' })
  @IsOptional()
  @IsIn(ROLES as unknown as string[])
  role?: string;

  @PageLimit(200) limit?: number;
}

export class ReturnedQueryDto {
  @PageLimit(200) limit?: number;
}
