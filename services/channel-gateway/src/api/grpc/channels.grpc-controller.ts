import { requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import type { Metadata } from '@grpc/grpc-js';
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { CHANNELS, type Channel } from '@flowline/contracts';
import { enumValue } from '@flowline/platform';
import type { ChannelStore } from '../../application/channel-store.port';
import { CHANNEL_STORE } from '../../tokens';

const CHANNEL_NAMES: Readonly<Record<string, Channel>> = Object.fromEntries(CHANNELS.map((c) => [c, c]));

/** flowline.channels.v1.ChannelGatewayService (proto/channels/v1/channels.proto). */
@Controller()
export class ChannelsGrpcController {
  constructor(@Inject(CHANNEL_STORE) private readonly store: ChannelStore) {}

  @GrpcMethod('ChannelGatewayService', 'GetIngestStats')
  @Requires('read', 'Import')
  async getIngestStats() {
    const rows = await this.store.ingestStats();
    return { channels: rows.map((r) => ({ channel: r.channel, ingested: r.ingested, touchedByPerson: r.touchedByPerson, quarantined: r.quarantined, autoIngestRate: r.autoIngestRate })) };
  }

  @GrpcMethod('ChannelGatewayService', 'ListQuarantine')
  @Requires('read', 'Import')
  async listQuarantine(req: { channel?: string }, metadata: Metadata) {
    // An unknown channel is refused (INVALID_ARGUMENT naming `channel`), not read as "all channels";
    // a shop-limited caller gets its shops' entries only.
    const entries = await this.store.listQuarantine(enumValue('channel', req.channel, CHANNEL_NAMES, { optional: true }), shopFilter(requirePrincipal(metadata)));
    return {
      entries: entries.map((e) => ({
        id: e.id,
        channel: e.channel,
        channelOrderId: e.channelOrderId ?? '',
        profileId: e.profileId,
        profileVersion: e.profileVersion,
        rowNumbers: e.orderTable.rows.map((r) => r.rowNumber),
        reasons: e.reasons.map((r) => ({ code: r.code, column: r.column ?? '', zh: r.zh, en: r.en })),
        createdAt: e.createdAt,
      })),
    };
  }
}
