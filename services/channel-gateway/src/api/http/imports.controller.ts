import { actorFromPrincipal, requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { DomainError } from '@flowline/domain';
import { IdParam } from '@flowline/platform';
import type { ChannelStore } from '../../application/channel-store.port';
import type { ImportService } from '../../application/import.service';
import type { ProfileRegistry } from '../../infra/profile-registry';
import type { ChannelGatewayMetrics } from '../../infra/channel-gateway.metrics';
import { CHANNEL_METRICS, CHANNEL_STORE, IMPORT_SERVICE, PROFILE_REGISTRY } from '../../tokens';
import { ImportUploadDto, QuarantineFixDto, QuarantineQueryDto } from './dto/import.dto';

@ApiTags('channel intake')
@Controller('api')
export class ImportsController {
  constructor(
    @Inject(IMPORT_SERVICE) private readonly imports: ImportService,
    @Inject(CHANNEL_STORE) private readonly store: ChannelStore,
    @Inject(PROFILE_REGISTRY) private readonly profiles: ProfileRegistry,
    @Inject(CHANNEL_METRICS) private readonly metrics: ChannelGatewayMetrics,
  ) {}

  @Post('imports')
  @ApiOperation({
    summary: 'Import a platform export (CSV / XLSX) — the same run and report as `npm run import`',
    description:
      'Safe to repeat: the same file again is a no-op (duplicates), a re-export applies the platform status changes through the order flow, an interrupted run of the same file is resumed. Rejected rows go to the quarantine.',
  })
  @ApiCreatedResponse({ description: 'The import report: rows read, imported, duplicates, updated, rejected rows with reasons (zh-CN / en)' })
  @ApiBadRequestResponse({ description: 'A field broke a rule (errors[] names it)' })
  @ApiUnprocessableEntityResponse({ description: 'IMPORT_COLUMNS_MISSING, IMPORT_FILE_UNREADABLE, PROFILE_NOT_FOUND, ...' })
  @Requires('create', 'Import')
  async upload(@Body() body: ImportUploadDto) {
    const decode = (f: { name: string; contentBase64: string }) => ({ name: f.name, bytes: Buffer.from(f.contentBase64, 'base64') });
    const report = await this.imports.run({
      channel: body.channel,
      file: decode(body.file),
      ...(body.items ? { items: decode(body.items) } : {}),
      ...(body.profile ? { profileId: body.profile } : {}),
      dryRun: body.dryRun ?? false,
    });
    this.metrics.stats(await this.store.ingestStats());
    return report;
  }

  @Get('imports/:runId')
  @ApiOperation({ summary: 'The report of an import run' })
  @ApiNotFoundResponse({ description: 'IMPORT_RUN_NOT_FOUND' })
  @Requires('read', 'Import')
  async run(@Param('runId', new IdParam('runId')) runId: string) {
    const r = await this.store.getRun(runId);
    if (!r) throw new DomainError('IMPORT_RUN_NOT_FOUND', `no import run ${runId}`, { runId }, 'not_found');
    return { runId, status: r.status, report: r.report };
  }

  @Get('quarantine')
  @ApiOperation({ summary: 'Open quarantine entries: the rows of each refused order and why' })
  @ApiOkResponse({ description: 'Entries, oldest first' })
  @Requires('read', 'Import')
  async quarantine(@Query() q: QuarantineQueryDto, @Headers() h: Record<string, string | undefined>) {
    // A shop-limited user sees its shops' entries only (their raw rows name the buyer).
    return this.store.listQuarantine(q.channel, shopFilter(requirePrincipal(h)));
  }

  @Post('quarantine/:id/fix')
  @HttpCode(200)
  @ApiOperation({ summary: "Fix cells of a quarantined order and retry it (no edits: retry with the current profile). The order is placed with the caller's own token, so the person is its actor" })
  @ApiNotFoundResponse({ description: 'QUARANTINE_NOT_FOUND' })
  @Requires('update', 'Import')
  async fix(@Param('id', new IdParam('id')) id: string, @Body() body: QuarantineFixDto, @Headers() h: Record<string, string | undefined>) {
    // The person who fixed it is the order's actor in order-intake (tracking counts it as manually
    // ingested): their verified token goes along with the order (X-Actor-* headers mean nothing).
    const principal = requirePrincipal(h);
    const bearer = /^Bearer\s+(\S+)/i.exec(h.authorization ?? '')?.[1];
    const person = { id: principal.subject, role: actorFromPrincipal(principal).role ?? 'customer_service', ...(bearer ? { bearer } : {}) };
    // Another shop's entry is answered as an unknown one.
    const result = await this.imports.fixQuarantined(id, body.edits, person, shopFilter(principal));
    this.metrics.stats(await this.store.ingestStats());
    return result;
  }

  @Post('profiles/:id/remap')
  @HttpCode(200)
  @ApiOperation({ summary: "Re-map by replay: orders mapped with an older version of this profile are mapped again from their raw rows with the current version and synced" })
  @ApiNotFoundResponse({ description: 'PROFILE_NOT_FOUND' })
  @Requires('update', 'Import')
  async remap(@Param('id', new IdParam('id')) id: string) {
    return this.imports.remap(id);
  }

  @Get('channels/ingest')
  @ApiOperation({ summary: 'Auto-ingest rate per channel (orders with no person touching them / orders seen), quarantine size' })
  @Requires('read', 'Import')
  async ingest() {
    const stats = await this.store.ingestStats();
    this.metrics.stats(stats);
    return stats;
  }

  @Get('profiles')
  @ApiOperation({
    summary: 'Mapping profiles (id, version, channel, description, itemsFile, defaultFor)',
    description:
      '`itemsFile`: the layout joins an items file (Taobao classic 宝贝报表), sent as `items` beside `file` (else IMPORT_ITEMS_FILE_REQUIRED). `defaultFor`: the channels that import with the profile when the upload names none (on its newest version).',
  })
  @Requires('read', 'Import')
  profilesList() {
    return this.profiles.summaries();
  }
}
