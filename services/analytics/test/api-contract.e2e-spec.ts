import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

const FROM = '2026-06-01T00:00:00+08:00';
const TO = '2026-07-01T00:00:00+08:00';

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show). The facts are empty: every RPC
// answers from an empty projection, which is what a fresh install serves.
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix(), ANALYTICS_CONSUMER_GROUP: `analytics-contract-${uniqueSuffix()}` }),
  exercise: async (call) => {
    const sales = await call('AnalyticsService/GetSales', { by: 'channel', from: FROM, to: TO, channel: 'jd' });
    expect(sales.ok, sales.error?.details).toBe(true);
    expect(sales.response).toMatchObject({ by: 'channel', currency: 'CNY' });
    const checksum = await call('AnalyticsService/GetChecksum', {});
    expect(checksum.response).toMatchObject({ schema: 'analytics' });
    expect((await call('AnalyticsService/GetRfm', { from: FROM, asOf: TO })).ok).toBe(true);
    const pairs = await call('AnalyticsService/GetSkuPairs', { from: FROM, to: TO, minCount: 1, limit: 10 });
    expect(pairs.ok, pairs.error?.details).toBe(true);
    const forecast = await call('AnalyticsService/GetForecast', { sku: 'TEA-LJ-250', from: '2026-07-01', horizon: 7 });
    expect(forecast.error?.code ?? 0, forecast.error?.details).not.toBe(3);
    const suggestions = await call('AnalyticsService/GetPurchaseSuggestions', { warehouseId: 'WH-SH', from: '2026-07-01', items: [{ sku: 'TEA-LJ-250', leadTimeDays: 7, packSize: 12 }] });
    expect(suggestions.error?.code ?? 0, suggestions.error?.details).not.toBe(3);
    const daily = await call('AnalyticsService/GetDailyReconciliation', { platform: 'jd', day: '2026-06-10' });
    expect(daily.ok, daily.error?.details).toBe(true);
  },
  malformed: [
    {
      name: 'GetSales with an unknown dimension',
      grpc: { method: 'AnalyticsService/GetSales', request: { by: 'galaxy', from: FROM, to: TO }, field: 'by' },
      rest: { method: 'GET', path: `/api/analytics/sales?by=galaxy&from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`, field: 'by' },
    },
    {
      name: 'GetSales with a malformed shop id',
      grpc: { method: 'AnalyticsService/GetSales', request: { by: 'day', from: FROM, to: TO, shopId: 'shop 1?' }, field: 'shopId' },
      rest: { method: 'GET', path: `/api/analytics/sales?by=day&from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&shopId=shop%201%3F`, field: 'shopId' },
    },
    {
      name: 'GetSales with an unknown channel',
      grpc: { method: 'AnalyticsService/GetSales', request: { by: 'day', from: FROM, to: TO, channel: 'ebay' }, field: 'channel' },
      rest: { method: 'GET', path: `/api/analytics/sales?by=day&from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&channel=ebay`, field: 'channel' },
    },
    {
      name: 'GetForecast with an empty SKU',
      grpc: { method: 'AnalyticsService/GetForecast', request: { sku: '', from: '2026-07-01' }, field: 'sku' },
      rest: { method: 'GET', path: '/api/analytics/forecast?sku=&from=2026-07-01', field: 'sku' },
    },
    {
      name: 'GetForecast with a malformed SKU',
      grpc: { method: 'AnalyticsService/GetForecast', request: { sku: 'bad\tsku', from: '2026-07-01' }, field: 'sku' },
      rest: { method: 'GET', path: '/api/analytics/forecast?sku=bad%09sku&from=2026-07-01', field: 'sku' },
    },
    {
      name: 'GetPurchaseSuggestions with an empty warehouse id',
      grpc: { method: 'AnalyticsService/GetPurchaseSuggestions', request: { warehouseId: '', from: '2026-07-01', items: [{ sku: 'TEA-LJ-250', leadTimeDays: 7, packSize: 12 }] }, field: 'warehouseId' },
      rest: { method: 'POST', path: '/api/analytics/purchase-suggestions', body: { warehouseId: '', from: '2026-07-01', items: [{ sku: 'TEA-LJ-250', leadTimeDays: 7, packSize: 12 }] }, field: 'warehouseId' },
    },
    {
      name: 'GetSkuPairs with a negative page size',
      grpc: { method: 'AnalyticsService/GetSkuPairs', request: { from: FROM, to: TO, limit: -1 }, field: 'limit' },
      rest: { method: 'GET', path: `/api/analytics/sku-pairs?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&limit=-1`, field: 'limit' },
    },
    {
      name: 'GetSkuPairs with a page size above the maximum',
      grpc: { method: 'AnalyticsService/GetSkuPairs', request: { from: FROM, to: TO, limit: 501 }, field: 'limit' },
      rest: { method: 'GET', path: `/api/analytics/sku-pairs?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&limit=501`, field: 'limit' },
    },
    {
      name: 'GetDailyReconciliation with an unknown platform',
      grpc: { method: 'AnalyticsService/GetDailyReconciliation', request: { platform: 'ebay', day: '2026-06-10' }, field: 'platform' },
      rest: { method: 'GET', path: '/api/analytics/reconciliation/daily?platform=ebay&day=2026-06-10', field: 'platform' },
    },
  ],
});
