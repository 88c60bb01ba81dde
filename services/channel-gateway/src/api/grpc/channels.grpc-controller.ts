import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Channel } from '@flowline/contracts';
import type { ChannelStore } from '../../application/channel-store.port';
import { CHANNEL_STORE } from '../../tokens';

/** flowline.channels.v1.ChannelGatewayService (proto/channels/v1/channels.proto). */
@Controller()
export class ChannelsGrpcController {
  constructor(@Inject(CHANNEL_STORE) private readonly store: ChannelStore) {}

  @GrpcMethod('ChannelGatewayService', 'GetIngestStats')
  async getIngestStats() {
    const rows = await this.store.ingestStats();
    return { channels: rows.map((r) => ({ channel: r.channel, ingested: r.ingested, touchedByPerson: r.touchedByPerson, quarantined: r.quarantined, autoIngestRate: r.autoIngestRate })) };
  }

  @GrpcMethod('ChannelGatewayService', 'ListQuarantine')
  async listQuarantine(req: { channel?: string }) {
    const entries = await this.store.listQuarantine(req.channel ? (req.channel as Channel) : undefined);
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
