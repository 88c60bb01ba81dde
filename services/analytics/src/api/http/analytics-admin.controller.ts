import { Requires } from '@flowline/auth';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParam } from '@flowline/platform';
import { AnalyticsRuntime, type RebuildStatus } from '../../infra/analytics-runtime';
import type { AnalyticsChecksum } from '../../infra/checksum';
import { ChecksumQueryDto, StartRebuildDto } from './dto/analytics.dto';

/** Operations: rebuild the facts from the topics, compare checksums. */
@ApiTags('analytics admin')
@Requires('admin', 'Admin')
@Controller('api/analytics/admin')
export class AnalyticsAdminController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  @Post('rebuild')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay the topics into fresh tables; compare checksums with live (default) or swap them in; poll GET rebuild/{id}' })
  rebuild(@Body() body: StartRebuildDto): RebuildStatus {
    return this.runtime.startRebuild({ swap: body.swap, keepRebuild: body.keepRebuild });
  }

  @Get('rebuild/:id')
  @ApiOperation({ summary: 'Progress and report of a rebuild started by this process' })
  rebuildStatus(@Param('id', new IdParam('id')) id: string): RebuildStatus {
    return this.runtime.rebuildStatus(id);
  }

  @Get('checksum')
  @ApiOperation({ summary: 'md5 over every fact row in key order (live schema, or a kept rebuild schema)' })
  checksum(@Query() q: ChecksumQueryDto): Promise<AnalyticsChecksum> {
    return this.runtime.checksum(q.schema);
  }

  @Get('lag')
  @ApiOperation({ summary: 'Messages per topic the live projector has not committed yet' })
  lag(): Promise<{ topic: string; messages: number }[]> {
    return this.runtime.lag();
  }
}
