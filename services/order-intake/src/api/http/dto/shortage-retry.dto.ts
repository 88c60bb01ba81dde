import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsSku } from '@flowline/platform';
import { IsOptional } from 'class-validator';

export class ShortageRetryDto {
  @ApiPropertyOptional({ example: 'VASE-CELADON-01', description: 'Only the orders short of this SKU; absent: every waiting order' })
  @IsOptional()
  @IsSku()
  sku?: string;
}

export class ShortageWaitingDto {
  @ApiProperty({ example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' }) orderId!: string;
  @ApiProperty({
    enum: ['not_enough_stock', 'stock_unchanged', 'unknown_sku', 'retry_later'],
    description:
      'not_enough_stock: what is available does not cover every line after the orders placed before it; unknown_sku: inventory does not know a SKU of the order; the timer only (a person asking skips these waits): stock_unchanged: the short stock has not moved since inventory refused; retry_later: inventory refused it several times in a row, it is tried again after 1, 2, 4 ... minutes (at most an hour)',
  })
  reason!: 'not_enough_stock' | 'stock_unchanged' | 'unknown_sku' | 'retry_later';
}

export class ShortageRetryOutcomeDto {
  @ApiProperty({ type: [String], description: 'Orders whose STOCK_SHORTAGE exception was resolved: inventory is asked to reserve each again, first placed first' })
  retried!: string[];
  @ApiProperty({ type: [ShortageWaitingDto], description: 'Orders left waiting, with why' })
  waiting!: ShortageWaitingDto[];
  @ApiProperty({ type: [String], description: 'Orders that moved on while the retry was decided (resolved, held or changed by someone else)' })
  skipped!: string[];
  @ApiProperty({ example: 3, description: 'Waiting orders looked at (at most 500 per call, first placed first)' })
  candidates!: number;
}
