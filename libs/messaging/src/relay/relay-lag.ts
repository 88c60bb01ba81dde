import { activeRelays, relayMetrics, type LagSource } from '../metrics';

/** Makes a relay visible to the lag gauges (evaluated on each scrape). */
export function registerRelay(relay: LagSource): void {
  relayMetrics.lagEvents();
  relayMetrics.lagSeconds();
  activeRelays().add(relay);
}

export function unregisterRelay(relay: LagSource): void {
  activeRelays().delete(relay);
}
