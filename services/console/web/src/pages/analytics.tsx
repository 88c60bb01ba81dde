import { useQuery } from '@tanstack/react-query';
import { Card, Col, Input, Row, Select, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { api, unwrapAs } from '../api';
import { addDays, beijingDay, beijingDayStart } from '../beijing-days';
import { EChart, EmptyText, ProblemAlert } from '../components';
import { ErrorBoundary } from '../error-boundary';
import { CHANNELS, RECON_ISSUES, RFM_SEGMENT_NAMES, WEEKDAYS, useI18n } from '../i18n';

/*
 * Analytics / 经营分析: charts and tables over the analytics service's REST API (through the BFF).
 * The service's OpenAPI documents the queries (typed by the generated paths) but not the response
 * bodies yet, so the views below mirror services/analytics' SalesReport, RfmReport, SkuPair,
 * ForecastView, PurchaseSuggestion and DailyReconciliation. Money arrives in fen, shown in yuan.
 */
export interface SalesRow { key: string; orders: number; units: number; revenue: number; refunds: number; net: number; aov: number }
export interface SalesReport { by: string; currency: string; total: SalesRow; rows: SalesRow[]; repeatPurchaseRate: number; customers: number; repeatCustomers: number }
interface RfmReport { segments: Record<string, number>; customers: unknown[] }
interface SkuPair { a: string; b: string; together: number; support: number; confidenceAB: number; confidenceBA: number; lift: number }
interface Backtest { model: string; smape: number; mape: number | null; rmse: number }
interface PointForecast { point: number[]; lower: number[]; upper: number[] }
interface ForecastView {
  sku: string; days: string[]; level: number; chosen: 'model' | 'baseline'; point: number[]; lower: number[]; upper: number[];
  historyDays: string[]; history: number[];
  model: { name: string; forecast: PointForecast | null; backtest: Backtest | null; error: string | null };
  baseline: { name: string; forecast: PointForecast; backtest: Backtest };
}
interface Suggestion { sku: string; leadTimeDays: number; demandOverLeadTime: number; safetyStock: number; available: number; inbound: number; packSize: number; suggestedQuantity: number; forecastModel: string }
interface Discrepancy { code: string; orderId: string | null; channelOrderId: string; expected: number; actual: number; difference: number }
interface DailyReconciliation { platform: string; day: string; discrepancies: Discrepancy[]; ordersReconciled: number; ordersTotal: number; reconciledRate: number }

const PLATFORMS = ['alipay', 'jd', 'pdd', 'douyin'] as const;
type Platform = (typeof PLATFORMS)[number];
const PLATFORM_NAMES: Record<Platform, { zh: string; en: string }> = {
  alipay: { zh: '支付宝（淘宝/天猫）', en: 'Alipay (Taobao/Tmall)' },
  jd: { zh: '京东', en: 'JD' },
  pdd: { zh: '拼多多', en: 'Pinduoduo' },
  douyin: { zh: '抖音', en: 'Douyin' },
};
/** Fen -> yuan as a number for charts (2 decimals, exact for integer fen). */
export const yuan = (fen: number) => Math.round(fen) / 100;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/**
 * Forecast units as charted: 2 decimals. The model's forecast of a SKU with no sales in its history
 * is not 0 but floating-point residue (~1e-107); ECharts cannot make a value axis of such a range
 * (IntervalScale asserts) and threw. NaN (null in JSON) stays a gap.
 */
const chartUnits = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
/** A backtest error with 2 decimals; '—' when there is none (NaN arrives as null). */
const err2 = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(2) : '—');

function useSales(by: 'day' | 'hour' | 'weekday' | 'channel' | 'sku', from: string, to: string) {
  return useQuery({
    queryKey: ['analytics-sales', by, from, to],
    queryFn: () =>
      unwrapAs<SalesReport>(
        api.analytics.GET('/api/analytics/sales', { params: { query: { by, from: beijingDayStart(from), to: beijingDayStart(to), ...(by === 'day' || by === 'hour' || by === 'weekday' ? { fill: true } : {}) } } }),
      ),
  });
}

export function AnalyticsPage() {
  const { t } = useI18n();
  // Days are Beijing dates (as analytics counts them), whatever the browser's zone: from 90 days ago
  // to the end of today (the to day is exclusive).
  const today = beijingDay(Date.now());
  const [from, setFrom] = useState(() => addDays(today, -90));
  const [to, setTo] = useState(() => addDays(today, 1));
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Space wrap>
        <Typography.Title level={2} style={{ margin: 0 }}>{t('analytics')}</Typography.Title>
        <label>{t('dateFrom')} <Input type="date" aria-label={t('dateFrom')} data-testid="a-from" value={from} onChange={(e) => e.target.value && setFrom(e.target.value)} style={{ width: 160 }} /></label>
        <label>{t('dateTo')} <Input type="date" aria-label={t('dateTo')} data-testid="a-to" value={to} onChange={(e) => e.target.value && setTo(e.target.value)} style={{ width: 160 }} /></label>
      </Space>
      {/* Each part fails on its own (a message in its place), never the page. */}
      <ErrorBoundary what={t('revenue')}><SalesSection from={from} to={to} /></ErrorBoundary>
      <Row gutter={12}>
        <Col xs={24} lg={10}><ErrorBoundary what={t('rfmSegments')}><RfmCard from={from} to={to} /></ErrorBoundary></Col>
        <Col xs={24} lg={14}><ErrorBoundary what={t('skuPairs')}><PairsCard from={from} to={to} /></ErrorBoundary></Col>
      </Row>
      <ErrorBoundary what={t('forecast')}><ForecastCard from={from} to={to} today={today} /></ErrorBoundary>
      <ErrorBoundary what={t('purchaseSuggestions')}><SuggestionsCard today={today} /></ErrorBoundary>
      <ErrorBoundary what={t('reconciliation')}><ReconciliationCard today={today} /></ErrorBoundary>
    </Space>
  );
}

function SalesSection({ from, to }: { from: string; to: string }) {
  const { t, pick, money } = useI18n();
  const byDay = useSales('day', from, to);
  const byHour = useSales('hour', from, to);
  const byWeekday = useSales('weekday', from, to);
  const byChannel = useSales('channel', from, to);
  const bySku = useSales('sku', from, to);
  const revenueChart = (rows: SalesRow[], label: (k: string) => string, kind: 'line' | 'bar') => ({
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 60, right: 50, bottom: 30, top: 30 },
    xAxis: { type: 'category', data: rows.map((r) => label(r.key)) },
    yAxis: [{ type: 'value', name: t('revenueYuan') }, { type: 'value', name: t('ordersSeen') }],
    series: [
      { name: t('revenueYuan'), type: kind, data: rows.map((r) => yuan(r.revenue)) },
      { name: t('net'), type: kind, data: rows.map((r) => yuan(r.net)) },
      { name: t('ordersSeen'), type: 'line', yAxisIndex: 1, data: rows.map((r) => r.orders) },
    ],
  });
  const dayOpt = useMemo(() => revenueChart(byDay.data?.rows ?? [], (k) => k, 'line'), [byDay.data, t]);
  const hourOpt = useMemo(() => revenueChart(byHour.data?.rows ?? [], (k) => k, 'bar'), [byHour.data, t]);
  const weekdayOpt = useMemo(() => revenueChart(byWeekday.data?.rows ?? [], (k) => pick(WEEKDAYS[k]) || k, 'bar'), [byWeekday.data, t, pick]);
  const total = byDay.data?.total;
  const channelRows = byChannel.data?.rows ?? [];
  const topSkus = [...(bySku.data?.rows ?? [])].sort((a, b) => b.revenue - a.revenue || (a.key < b.key ? -1 : 1)).slice(0, 10);
  const moneyCols = [
    { title: t('revenue'), dataIndex: 'revenue', align: 'right' as const, render: (v: number) => money(v) },
    { title: t('ordersSeen'), dataIndex: 'orders', align: 'right' as const },
    { title: t('aov'), dataIndex: 'aov', align: 'right' as const, render: (v: number) => money(v) },
    { title: t('refunds'), dataIndex: 'refunds', align: 'right' as const, render: (v: number) => money(v) },
    { title: t('net'), dataIndex: 'net', align: 'right' as const, render: (v: number) => money(v) },
  ];
  return (
    <>
      <ProblemAlert error={byDay.error ?? byChannel.error} />
      <Row gutter={12} data-testid="a-totals">
        {([
          ['revenue', total ? money(total.revenue) : '—'],
          ['ordersSeen', total?.orders ?? '—'],
          ['aov', total ? money(total.aov) : '—'],
          ['refunds', total ? money(total.refunds) : '—'],
          ['net', total ? money(total.net) : '—'],
          ['repeatRate', byDay.data ? pct(byDay.data.repeatPurchaseRate) : '—'],
        ] as const).map(([k, v]) => (
          <Col key={k} xs={12} md={4}><Card size="small"><Statistic title={t(k)} value={v} valueRender={() => <span data-testid={`a-total-${k}`}>{v}</span>} /></Card></Col>
        ))}
      </Row>
      <Card size="small" title={t('salesByDay')}><EChart option={dayOpt} label={t('salesByDay')} height={260} /></Card>
      <Row gutter={12}>
        <Col xs={24} lg={12}><Card size="small" title={t('salesByHour')}><EChart option={hourOpt} label={t('salesByHour')} height={240} /></Card></Col>
        <Col xs={24} lg={12}><Card size="small" title={t('salesByWeekday')}><EChart option={weekdayOpt} label={t('salesByWeekday')} height={240} /></Card></Col>
      </Row>
      <Row gutter={12}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('salesByChannel')}>
            <Table<SalesRow> data-testid="a-channels" size="small" rowKey="key" pagination={false} dataSource={channelRows} locale={{ emptyText: <EmptyText /> }}
              columns={[{ title: t('channel'), dataIndex: 'key', render: (k: string) => pick(CHANNELS[k]) || k }, ...moneyCols]} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('topSkus')}>
            <Table<SalesRow> data-testid="a-skus" size="small" rowKey="key" pagination={false} dataSource={topSkus} locale={{ emptyText: <EmptyText /> }}
              columns={[{ title: t('sku'), dataIndex: 'key' }, { title: t('units'), dataIndex: 'units', align: 'right' }, ...moneyCols.slice(0, 2)]} />
          </Card>
        </Col>
      </Row>
    </>
  );
}

function RfmCard({ from, to }: { from: string; to: string }) {
  const { t, pick } = useI18n();
  const q = useQuery({
    queryKey: ['analytics-rfm', from, to],
    queryFn: () => unwrapAs<RfmReport>(api.analytics.GET('/api/analytics/customers/rfm', { params: { query: { from: beijingDayStart(from), asOf: beijingDayStart(to) } } })),
  });
  const segs = Object.entries(q.data?.segments ?? {});
  const opt = useMemo(() => ({ tooltip: {}, series: [{ type: 'pie', radius: ['35%', '70%'], data: segs.map(([k, v]) => ({ name: pick(RFM_SEGMENT_NAMES[k]) || k, value: v })) }] }), [q.data, pick]);
  return (
    <Card size="small" title={t('rfmSegments')}>
      <ProblemAlert error={q.error} />
      <EChart option={opt} label={t('rfmSegments')} height={220} />
      <Space wrap data-testid="a-rfm">{segs.map(([k, v]) => <Tag key={k} data-seg={k}>{pick(RFM_SEGMENT_NAMES[k]) || k}: <span data-testid={`a-rfm-${k}`}>{v}</span></Tag>)}</Space>
    </Card>
  );
}

function PairsCard({ from, to }: { from: string; to: string }) {
  const { t } = useI18n();
  const q = useQuery({
    queryKey: ['analytics-pairs', from, to],
    queryFn: () => unwrapAs<{ baskets: number; pairs: SkuPair[] }>(api.analytics.GET('/api/analytics/sku-pairs', { params: { query: { from: beijingDayStart(from), to: beijingDayStart(to), limit: 20 } } })),
  });
  const f = (x: number) => x.toFixed(3);
  return (
    <Card size="small" title={t('skuPairs')}>
      <ProblemAlert error={q.error} />
      <Table<SkuPair> data-testid="a-pairs" size="small" rowKey={(p) => `${p.a}|${p.b}`} pagination={{ pageSize: 8 }} dataSource={q.data?.pairs ?? []} locale={{ emptyText: <EmptyText /> }}
        columns={[
          { title: 'A', dataIndex: 'a' },
          { title: 'B', dataIndex: 'b' },
          { title: t('together'), dataIndex: 'together', align: 'right' },
          { title: t('support'), dataIndex: 'support', align: 'right', render: f },
          { title: `${t('confidence')} A→B`, dataIndex: 'confidenceAB', align: 'right', render: f },
          { title: `${t('confidence')} B→A`, dataIndex: 'confidenceBA', align: 'right', render: f },
          { title: t('lift'), dataIndex: 'lift', align: 'right', render: f },
        ]} />
    </Card>
  );
}

function ForecastCard({ from, to, today }: { from: string; to: string; today: string }) {
  const { t } = useI18n();
  const skus = useSales('sku', from, to);
  const options = [...(skus.data?.rows ?? [])].sort((a, b) => b.units - a.units || (a.key < b.key ? -1 : 1)).map((r) => r.key);
  const [picked, setPicked] = useState<string>();
  const sku = picked ?? options[0];
  const q = useQuery({
    queryKey: ['analytics-forecast', sku, today],
    enabled: !!sku,
    queryFn: () => unwrapAs<ForecastView>(api.analytics.GET('/api/analytics/forecast', { params: { query: { sku: sku!, from: today } } })),
  });
  const f = q.data;
  const opt = useMemo(() => {
    if (!f) return {};
    const hist = f.history.slice(-42).map(chartUnits);
    const histDays = f.historyDays.slice(-42);
    const pad = (xs: (number | null)[]) => [...hist.map(() => null), ...xs.map(chartUnits)];
    const lower = f.lower.map(chartUnits);
    const band = f.upper.map(chartUnits).map((u, i) => {
      const l = lower[i];
      return u === null || l === null || l === undefined ? null : Math.max(0, u - l);
    });
    const modelPoint = f.model.forecast?.point ?? [];
    const names = {
      history: t('history'),
      band: `${t('interval')} ${Math.round(f.level * 100)}%`,
      model: `${t('modelForecast')} (${f.model.name})`,
      baseline: `${t('baselineForecast')} (${f.baseline.name})`,
    };
    return {
      tooltip: { trigger: 'axis' },
      // The band's lower edge is a stacking helper, not a series of its own: not in the legend.
      legend: { top: 0, data: [names.history, names.band, ...(modelPoint.length ? [names.model] : []), names.baseline] },
      grid: { left: 40, right: 10, bottom: 30, top: 30 },
      xAxis: { type: 'category', data: [...histDays, ...f.days] },
      yAxis: { type: 'value', name: t('units') },
      series: [
        { name: names.history, type: 'line', data: [...hist, ...f.days.map(() => null)], showSymbol: false },
        { name: 'lower', type: 'line', stack: 'pi', data: pad(lower), lineStyle: { opacity: 0 }, showSymbol: false, tooltip: { show: false } },
        { name: names.band, type: 'line', stack: 'pi', data: pad(band), lineStyle: { opacity: 0 }, areaStyle: { color: '#93c5fd', opacity: 0.5 }, showSymbol: false },
        ...(modelPoint.length ? [{ name: names.model, type: 'line', data: pad(modelPoint) }] : []),
        { name: names.baseline, type: 'line', lineStyle: { type: 'dashed' }, data: pad(f.baseline.forecast.point) },
      ],
    };
  }, [f, t]);
  return (
    <Card size="small" title={t('forecast')} extra={
      <Select aria-label={t('sku')} data-testid="a-forecast-sku" showSearch style={{ width: 200 }} value={sku} onChange={setPicked} options={options.map((s) => ({ value: s, label: s }))} />
    }>
      <ProblemAlert error={q.error} />
      {f && (
        <Space wrap data-testid="a-forecast-errors">
          <Tag>{t('modelForecast')} {f.model.name} · {t('backtestSmape')}: <span data-testid="a-smape-model">{err2(f.model.backtest?.smape)}</span></Tag>
          <Tag>{t('baselineForecast')} · {t('backtestSmape')}: <span data-testid="a-smape-baseline">{err2(f.baseline.backtest.smape)}</span></Tag>
          <Tag color="blue">{t('chosen')}: <span data-testid="a-chosen">{f.chosen === 'model' ? t('modelForecast') : t('baselineForecast')}</span></Tag>
          {f.model.error && <Typography.Text type="secondary">{f.model.error}</Typography.Text>}
        </Space>
      )}
      <EChart option={opt} label={t('forecast')} height={280} />
    </Card>
  );
}

function SuggestionsCard({ today }: { today: string }) {
  const { t } = useI18n();
  const [warehouseId, setWarehouseId] = useState('WH-SH');
  const [input, setInput] = useState('WH-SH');
  const q = useQuery({
    queryKey: ['analytics-purchase', warehouseId, today],
    queryFn: () => unwrapAs<{ warehouseId: string; suggestions: Suggestion[] }>(api.analytics.GET('/api/analytics/purchase-suggestions', { params: { query: { warehouseId, from: today } } })),
  });
  return (
    <Card size="small" title={t('purchaseSuggestions')} extra={
      <Input.Search aria-label={t('warehouseId')} data-testid="a-warehouse" style={{ width: 200 }} value={input} onChange={(e) => setInput(e.target.value)} onSearch={(v) => v.trim() && setWarehouseId(v.trim())} enterButton={t('view')} />
    }>
      <ProblemAlert error={q.error} />
      <Table<Suggestion> data-testid="a-suggestions" size="small" rowKey="sku" pagination={{ pageSize: 10 }} dataSource={q.data?.suggestions ?? []} locale={{ emptyText: <EmptyText /> }}
        columns={[
          { title: t('sku'), dataIndex: 'sku' },
          { title: t('demandOverLeadTime'), dataIndex: 'demandOverLeadTime', align: 'right', render: (v: number) => v.toFixed(1) },
          { title: t('safetyStock'), dataIndex: 'safetyStock', align: 'right', render: (v: number) => v.toFixed(1) },
          { title: t('available'), dataIndex: 'available', align: 'right' },
          { title: t('inbound'), dataIndex: 'inbound', align: 'right' },
          { title: t('packSize'), dataIndex: 'packSize', align: 'right' },
          { title: t('suggestedQuantity'), dataIndex: 'suggestedQuantity', align: 'right', render: (v: number) => <Typography.Text strong>{v}</Typography.Text> },
          { title: t('chosen'), dataIndex: 'forecastModel' },
        ]} />
    </Card>
  );
}

function ReconciliationCard({ today }: { today: string }) {
  const { t, pick, money } = useI18n();
  const [platform, setPlatform] = useState<Platform>('alipay');
  const [day, setDay] = useState(() => addDays(today, -1));
  const q = useQuery({
    queryKey: ['analytics-recon', platform, day],
    queryFn: () => unwrapAs<DailyReconciliation>(api.analytics.GET('/api/analytics/reconciliation/daily', { params: { query: { platform, day } } })),
  });
  const href = (format: 'csv' | 'xlsx') => `/api/analytics/api/analytics/reconciliation/daily?${new URLSearchParams({ platform, day, format }).toString()}`;
  const r = q.data;
  return (
    <Card size="small" title={t('reconciliation')} extra={
      <Space wrap>
        <Select aria-label={t('platform')} data-testid="a-platform" style={{ width: 190 }} value={platform} onChange={setPlatform} options={PLATFORMS.map((p) => ({ value: p, label: pick(PLATFORM_NAMES[p]) }))} />
        <Input type="date" aria-label={t('day')} data-testid="a-day" value={day} onChange={(e) => e.target.value && setDay(e.target.value)} style={{ width: 160 }} />
        <a data-testid="a-csv" href={href('csv')} download>{t('downloadCsv')}</a>
        <a data-testid="a-xlsx" href={href('xlsx')} download>{t('downloadXlsx')}</a>
      </Space>
    }>
      <ProblemAlert error={q.error} />
      {r && (
        <Typography.Paragraph>
          {t('ordersReconciled')}: <span data-testid="a-reconciled">{r.ordersReconciled} / {r.ordersTotal}</span> ({pct(r.reconciledRate)}) · {t('discrepancies')}: <span data-testid="a-discrepancy-count">{r.discrepancies.length}</span>
        </Typography.Paragraph>
      )}
      <Table<Discrepancy> data-testid="a-discrepancies" size="small" rowKey={(d) => `${d.code}|${d.channelOrderId}`} pagination={{ pageSize: 10 }} dataSource={r?.discrepancies ?? []} locale={{ emptyText: <EmptyText /> }}
        columns={[
          { title: t('issue'), dataIndex: 'code', render: (c: string) => pick(RECON_ISSUES[c]) || c },
          { title: t('orderId'), dataIndex: 'orderId', render: (v: string | null) => v ?? '—' },
          { title: t('channelOrderId'), dataIndex: 'channelOrderId' },
          { title: t('expected'), dataIndex: 'expected', align: 'right', render: (v: number) => money(v) },
          { title: t('actual'), dataIndex: 'actual', align: 'right', render: (v: number) => money(v) },
          { title: t('difference'), dataIndex: 'difference', align: 'right', render: (v: number) => money(v) },
        ]} />
    </Card>
  );
}
