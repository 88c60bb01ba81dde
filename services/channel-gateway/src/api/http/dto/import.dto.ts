import { CHANNELS, type Channel } from '@flowline/contracts';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsBase64, IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Length, Matches, Min, ValidateNested } from 'class-validator';

export class UploadedFileDto {
  @ApiProperty({ example: 'ExportOrderList202511.csv', description: 'File name as downloaded. Read: .xlsx workbooks, CSV or tab-separated text in any encoding, an HTML table saved as .xls; a legacy Excel 97-2003 .xls is refused (save it as .xlsx or CSV)' })
  @IsString()
  @Length(1, 255)
  name!: string;

  @ApiProperty({ description: 'The file bytes, base64 (any encoding: GBK / GB18030 / UTF-8 with or without BOM are detected)' })
  @IsString()
  @IsBase64()
  contentBase64!: string;
}

export class ImportUploadDto {
  @ApiProperty({ enum: CHANNELS, example: 'taobao' })
  @IsIn(CHANNELS as unknown as string[])
  channel!: Channel;

  @ApiPropertyOptional({ example: 'taobao-classic', description: "Mapping profile id; the channel's default layout when absent" })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/, { message: 'profile must be a profile id such as taobao-classic' })
  profile?: string;

  @ApiPropertyOptional({ default: false, description: 'Map and report only: nothing is placed or stored' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiProperty({ type: UploadedFileDto })
  @IsDefined({ message: 'file is required: { name, contentBase64 }' })
  @ValidateNested()
  @Type(() => UploadedFileDto)
  file!: UploadedFileDto;

  @ApiPropertyOptional({ type: UploadedFileDto, description: 'The items file of layouts that join one (Taobao classic 宝贝报表)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => UploadedFileDto)
  items?: UploadedFileDto;
}

export class QuarantineEditDto {
  @ApiProperty({ example: 3, description: 'Row number as the import report gives it' })
  @IsInt()
  @Min(1)
  rowNumber!: number;

  @ApiProperty({ example: '商品数量(件)', description: "Column as the file's header names it" })
  @IsString()
  @Length(1, 200)
  column!: string;

  @ApiProperty({ example: '1' })
  @IsString()
  @Length(0, 2000)
  value!: string;

  @ApiPropertyOptional({ enum: ['order', 'items'], default: 'order' })
  @IsOptional()
  @IsIn(['order', 'items'])
  file?: 'order' | 'items';
}

export class QuarantineFixDto {
  @ApiProperty({ type: [QuarantineEditDto] })
  @ArrayMinSize(0)
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => QuarantineEditDto)
  edits!: QuarantineEditDto[];
}

export class QuarantineQueryDto {
  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS as unknown as string[])
  channel?: Channel;
}
