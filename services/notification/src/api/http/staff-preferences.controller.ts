import { requirePrincipal, Requires } from '@flowline/auth';
import { Body, Controller, Delete, Get, Headers, Param, Put } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { IdParam } from '@flowline/platform';
import { assertOwnPreference, setStaffPreference, staffPreferenceView, type StaffPreferenceView } from '../../application/staff-preferences';
import { CHANNEL_KINDS, type ChannelKind } from '../../domain/notification.types';
import { NotificationRuntime } from '../../infra/notification-runtime';

export class StaffPreferenceDto {
  @ApiProperty({ enum: CHANNEL_KINDS, isArray: true, example: ['dingtalk'], description: 'Channels to be told on, among those staff.yaml gives an address for' })
  @IsArray()
  @ArrayMinSize(1)
  @IsIn([...CHANNEL_KINDS], { each: true })
  channels!: ChannelKind[];
}

/** Per-staff channel choice, stored in the database; staff.yaml stays the default (and holds the addresses). */
@ApiTags('staff preferences')
@Controller('api/staff')
export class StaffPreferencesController {
  constructor(private readonly rt: NotificationRuntime) {}

  @Get(':staffId/preferences')
  @ApiOperation({ summary: "A staff member's channels now, what staff.yaml allows, and whether a stored choice applies" })
  @Requires('read', 'Notification')
  get(@Param('staffId', new IdParam('staffId')) staffId: string): Promise<StaffPreferenceView> {
    return staffPreferenceView(this.rt.pool, this.rt.config.staff, staffId);
  }

  @Put(':staffId/preferences')
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'Choose the channels a staff member is told on (422 CHANNEL_NOT_AVAILABLE for one without an address in staff.yaml)' })
  @Requires('update', 'Notification')
  async put(@Param('staffId', new IdParam('staffId')) staffId: string, @Body() dto: StaffPreferenceDto, @Headers() h: Record<string, string | undefined>): Promise<StaffPreferenceView> {
    assertOwnPreference(requirePrincipal(h), staffId);
    const key = h['idempotency-key'];
    return setStaffPreference(this.rt.pool, this.rt.config.staff, staffId, dto.channels, await this.rt.clock.now(), key);
  }

  @Delete(':staffId/preferences')
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'Forget the stored choice: back to staff.yaml' })
  @Requires('update', 'Notification')
  async clear(@Param('staffId', new IdParam('staffId')) staffId: string, @Headers() h: Record<string, string | undefined>): Promise<StaffPreferenceView> {
    assertOwnPreference(requirePrincipal(h), staffId);
    const key = h['idempotency-key'];
    return setStaffPreference(this.rt.pool, this.rt.config.staff, staffId, null, await this.rt.clock.now(), key);
  }
}
