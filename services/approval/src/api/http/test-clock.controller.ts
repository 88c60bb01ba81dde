import { Requires } from '@flowline/auth';
import { Body, Controller, Get, HttpCode, NotFoundException, Post } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ApprovalRuntime } from '../../infra/approval-runtime';

export class AdvanceClockDto {
  @ApiProperty({ description: 'Milliseconds to move driven time forward (at most 30 days at once).', example: 8 * 3600 * 1000 })
  @IsInt()
  @Min(1)
  @Max(30 * 24 * 3600 * 1000)
  ms!: number;
}

/**
 * The driven clock (tests and demos): only with APPROVAL_DRIVEN_CLOCK=on (refused in production);
 * otherwise these routes answer 404 as if absent.
 */
@ApiTags('test-clock')
@Requires('admin', 'Admin')
@Controller('api/test/clock')
export class TestClockController {
  constructor(private readonly runtime: ApprovalRuntime) {}

  private requireDriven(): void {
    if (!this.runtime.clock.driven) throw new NotFoundException('the driven clock is off (APPROVAL_DRIVEN_CLOCK)');
  }

  @Get()
  @ApiOperation({ summary: 'Driven time now and its offset from real time (404 unless APPROVAL_DRIVEN_CLOCK=on).' })
  async get() {
    this.requireDriven();
    return { now: await this.runtime.clock.now(), offsetMs: await this.runtime.clock.offsetMs() };
  }

  @Post('advance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move driven time forward; timers that fall due run now, once, on one instance (404 unless APPROVAL_DRIVEN_CLOCK=on).' })
  advance(@Body() dto: AdvanceClockDto) {
    this.requireDriven();
    return this.runtime.clock.advance(dto.ms);
  }
}
