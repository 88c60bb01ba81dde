import { Requires } from '@flowline/auth';
import type { TrackingChecksumView } from '@flowline/contracts';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { TrackingRuntime, type RebuildStatus } from '../../infra/tracking-runtime';
import { ChecksumQueryDto, StartRebuildDto } from './dto/tracking.dto';

/** Operations: rebuild the projections from the topics, compare checksums, read the lag. */
@ApiTags('tracking admin')
@Requires('admin', 'Admin')
@Controller('api/tracking/admin')
export class TrackingAdminController {
  constructor(private readonly runtime: TrackingRuntime) {}

  @Post('rebuild')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay every topic into fresh tables and swap them in without downtime; poll GET rebuild/{id}' })
  rebuild(@Body() body: StartRebuildDto): RebuildStatus {
    return this.runtime.startRebuild({ swap: body.swap, keepOld: body.keepOld });
  }

  @Get('rebuild/:id')
  @ApiOperation({ summary: 'Progress and report of a rebuild started by this process' })
  rebuildStatus(@Param('id') id: string): RebuildStatus {
    return this.runtime.rebuildStatus(id);
  }

  @Get('checksum')
  @ApiOperation({ summary: 'Deterministic hash over the projected rows (live schema, or a rebuild schema), to compare rebuilt and live' })
  checksum(@Query() q: ChecksumQueryDto): Promise<TrackingChecksumView> {
    return this.runtime.queries.checksum(q.schema);
  }

  @Get('lag')
  @ApiOperation({ summary: 'Projection lag per topic: events behind and age of the last applied event' })
  async lag(): Promise<{ topic: string; events: number; seconds: number }[]> {
    return this.runtime.projector ? this.runtime.projector.measureLag() : [];
  }
}
