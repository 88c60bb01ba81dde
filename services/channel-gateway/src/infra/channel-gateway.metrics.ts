import { defineCounter, defineGauge } from '@flowline/observability';

/** Prometheus metrics of channel intake (served on /metrics). */
export function channelGatewayMetrics() {
  const ingested = defineCounter<'channel' | 'by'>({
    name: 'flowline_channel_orders_ingested_total',
    help: 'Platform orders placed in order-intake, by channel and by whom (auto: no person touched them; person: fixed in the quarantine)',
    labelNames: ['channel', 'by'],
  });
  const mappingErrors = defineCounter<'channel' | 'code'>({
    name: 'flowline_channel_mapping_errors_total',
    help: 'Reasons rows were refused at mapping, by channel and code',
    labelNames: ['channel', 'code'],
  });
  const quarantineSize = defineGauge<'channel'>({ name: 'flowline_channel_quarantine_size', help: 'Open quarantine entries by channel', labelNames: ['channel'] });
  const lag = defineGauge<'platform' | 'shop'>({ name: 'flowline_channel_connector_lag_seconds', help: "Now minus a shop's pull checkpoint", labelNames: ['platform', 'shop'] });
  const autoIngestRate = defineGauge<'channel'>({ name: 'flowline_channel_auto_ingest_ratio', help: 'Orders ingested with no person / orders seen, by channel', labelNames: ['channel'] });
  return {
    ingested(channel: string, byPerson: boolean): void {
      ingested.inc({ channel, by: byPerson ? 'person' : 'auto' });
    },
    rejected(channel: string, codes: string[]): void {
      for (const code of codes) mappingErrors.inc({ channel, code });
    },
    lag(rows: { platform: string; shopId: string; checkpoint: string }[], now: number): void {
      for (const r of rows) lag.set({ platform: r.platform, shop: r.shopId }, Math.max(0, (now - Date.parse(r.checkpoint)) / 1000));
    },
    stats(rows: { channel: string; quarantined: number; autoIngestRate: number }[]): void {
      for (const r of rows) {
        quarantineSize.set({ channel: r.channel }, r.quarantined);
        autoIngestRate.set({ channel: r.channel }, r.autoIngestRate);
      }
    },
  };
}

export type ChannelGatewayMetrics = ReturnType<typeof channelGatewayMetrics>;
