import { serviceTokenSourceFromEnv } from '@flowline/auth';
import type { Pool } from 'pg';
import { ImportService } from '../application/import.service';
import type { ChannelGatewayMetrics } from './channel-gateway.metrics';
import { readTable } from './file-reader';
import { OrderIntakeHttpClient } from './order-intake.http-client';
import { PgChannelStore } from './pg-channel-store';
import type { ProfileRegistry } from './profile-registry';
import { giftRulesSource } from './gift-rules.loader';
import { parseShopNames, shopNameResolver } from '../domain/import/shop-names';

/** One ImportService wired to PostgreSQL and order-intake's REST API: the service and the CLI share it. */
export function createImportService(
  pool: Pool,
  orderIntakeUrl: string,
  profiles: ProfileRegistry,
  metrics?: ChannelGatewayMetrics,
  giftRulesFile: string | undefined = process.env.CHANNEL_GIFT_RULES_FILE || undefined,
  shopNames: string | undefined = process.env.CHANNEL_IMPORT_SHOPS || undefined,
): { service: ImportService; store: PgChannelStore } {
  const store = new PgChannelStore(pool);
  const shopIdOf = shopNames ? shopNameResolver(parseShopNames(shopNames)) : undefined;
  const giftRules = giftRulesSource(giftRulesFile, (m) => console.warn(`[channel-gateway] ${m}`));
  const service = new ImportService({ store, orderIntake: new OrderIntakeHttpClient(orderIntakeUrl, undefined, serviceTokenSourceFromEnv('channel-gateway')), profiles, readTable, now: () => new Date(), giftRules, ...(metrics ? { metrics } : {}), ...(shopIdOf ? { shopIdOf } : {}) });
  return { service, store };
}
