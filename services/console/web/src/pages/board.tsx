import type { TrackingCountGroup, TrackingCounts, TrackingKpiReport, TrackingOrderChange, TrackingOrderView, TrackingStuckOrderView } from '@flowline/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Card, Col, Row, Select, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap, unwrapAs } from '../api';
import { EChart, EmptyText, ProblemAlert } from '../components';
import { BOARD_STAGES, CHANNELS, STAGES, useI18n } from '../i18n';
import { useSession } from '../session';

/** What colour a card shows: a held order is shown as held (purple), else its SLA colour. Presentation only. */
export type CardColour = 'green' | 'yellow' | 'red' | 'none' | 'hold';
export const cardColour = (o: TrackingOrderView): CardColour => (o.flags.includes('on_hold') ? 'hold' : o.sla.colour);
export const COLOUR_CSS: Record<CardColour, string> = { green: '#15803d', yellow: '#b45309', red: '#b91c1c', none: '#6b7280', hold: '#6d28d9' };

/**
 * The cards: open orders from tracking, kept live by its SSE stream (one `order` message per
 * change). A busy seller has tens of thousands open, more than a page: the newest 200 of each
 * stage and, so the ones that need a person are always on the board, the red, yellow, stuck, held
 * and exception ones, each up to 500. The counts come from useCounts.
 */
const CARD_QUERIES: Record<string, unknown>[] = [
  ...BOARD_STAGES.map((stage) => ({ stage, limit: 200 })),
  ...[{ sla: 'red,yellow' }, { flags: 'stuck' }, { flags: 'on_hold' }, { flags: 'exception' }].map((q) => ({ stage: BOARD_STAGES.join(','), limit: 500, ...q })),
];

function useLiveOrders(onChange: (old: TrackingOrderView | undefined, next: TrackingOrderView) => void, onRebuilt: () => void) {
  const [orders, setOrders] = useState<Map<string, TrackingOrderView>>(new Map());
  const [live, setLive] = useState(false);
  const initial = useQuery({
    queryKey: ['board-orders'],
    queryFn: async () => {
      const pages = await Promise.all(
        CARD_QUERIES.map((q) => unwrapAs<{ items: TrackingOrderView[] }>(api.tracking.GET('/api/tracking/orders', { params: { query: q as never } }))),
      );
      return pages.flatMap((p) => p.items);
    },
  });
  // The last view seen of each order (outside React state, read by the stream handler).
  const known = useRef(new Map<string, TrackingOrderView>());
  useEffect(() => {
    if (!initial.data) return;
    const loaded = new Map(initial.data.map((o) => [o.orderId, o]));
    for (const [id, o] of loaded) {
      // A change the stream delivered while this load was under way is newer than the load: keep it.
      const seen = known.current.get(id);
      if ((seen?.eventCount ?? -1) <= o.eventCount) known.current.set(id, o);
      else if (seen) loaded.set(id, seen);
    }
    setOrders(loaded);
  }, [initial.data]);
  useEffect(() => {
    const es = new EventSource('/api/tracking/api/tracking/stream');
    let opened = false;
    es.onopen = () => {
      setLive(true);
      // EventSource reconnects by itself, but tracking does not replay what it sent meanwhile: after a
      // reconnect the cards (and the counts) are loaded again, else a change made while the stream was
      // down would never show.
      if (opened) {
        void initial.refetch();
        onRebuilt();
      }
      opened = true;
    };
    es.onerror = () => setLive(false);
    es.addEventListener('order', (ev) => {
      const change = JSON.parse((ev as MessageEvent<string>).data) as TrackingOrderChange;
      if (change.kind !== 'order') return;
      setOrders((prev) => {
        const next = new Map(prev);
        const old = next.get(change.order.orderId);
        if (!old || old.eventCount <= change.order.eventCount) next.set(change.order.orderId, change.order);
        return next;
      });
      const old = known.current.get(change.order.orderId);
      if (old && old.eventCount > change.order.eventCount) return;
      onChange(old, change.order);
      known.current.set(change.order.orderId, change.order);
    });
    es.addEventListener('rebuilt', () => {
      void initial.refetch();
      onRebuilt();
    });
    return () => es.close();
  }, []);
  return { orders, live, error: initial.error };
}

/**
 * Every open order counted by tracking (channel, shop, stage, colour, flags): the tiles and the
 * column heads add up these groups, so they count all open orders, not the cards loaded. Fetched
 * again every 30 s (colours move with the clock) and, throttled to once per 2 s, after live changes.
 */
function useCounts() {
  const client = useQueryClient();
  const counts = useQuery({
    queryKey: ['board-counts'],
    queryFn: () => unwrapAs<TrackingCounts>(api.tracking.GET('/api/tracking/counts', { params: { query: { stage: BOARD_STAGES.join(',') } as never } })),
    refetchInterval: 30_000,
  });
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetch = useRef(counts.refetch);
  refetch.current = counts.refetch;
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );
  // A live change of an order the page knows moves the counts at once (its old group -1, its new
  // +1), and so does a new order (its first event); any other (an order never loaded: its old group
  // is unknown) waits for the refetch 2 s later, which settles everything.
  const changed = useCallback((old: TrackingOrderView | undefined, next: TrackingOrderView) => {
    if (old || next.eventCount === 1) {
      client.setQueryData<TrackingCounts>(['board-counts'], (c) => (c ? { ...c, groups: bumpGroup(bumpGroup(c.groups, old, -1), next, 1) } : c));
    }
    timer.current ??= setTimeout(() => {
      timer.current = null;
      void refetch.current();
    }, 2_000);
  }, [client]);
  const refresh = useCallback(() => void refetch.current(), []);
  return { groups: counts.data?.groups, error: counts.error, changed, refresh };
}

/** `groups` with `o`'s group moved by `d` (an order outside the board's stages changes nothing). */
export function bumpGroup(groups: TrackingCountGroup[], o: TrackingOrderView | undefined, d: number): TrackingCountGroup[] {
  if (!o || !(BOARD_STAGES as readonly string[]).includes(o.stage)) return groups;
  const key = { channel: o.channel, shopId: o.shopId, stage: o.stage, sla: o.sla.colour, onHold: o.flags.includes('on_hold'), exception: o.flags.includes('exception'), stuck: o.stuck };
  const same = (g: TrackingCountGroup) =>
    g.channel === key.channel && g.shopId === key.shopId && g.stage === key.stage && g.sla === key.sla && g.onHold === key.onHold && g.exception === key.exception && g.stuck === key.stuck;
  if (groups.some(same)) return groups.map((g) => (same(g) ? { ...g, count: Math.max(0, g.count + d) } : g));
  return d > 0 ? [...groups, { ...key, count: d }] : groups;
}

/** The colour a group's cards show (cardColour on a group). */
const groupColour = (g: TrackingCountGroup): CardColour => (g.onHold ? 'hold' : g.sla);

export function BoardPage() {
  const { t, pick, lang } = useI18n();
  const counts = useCounts();
  const { orders, live, error } = useLiveOrders(counts.changed, counts.refresh);
  const [channel, setChannel] = useState<string>();
  const [shop, setShop] = useState<string>();
  const [stage, setStage] = useState<string>();
  const [colour, setColour] = useState<string>();
  const all = [...orders.values()].filter((o) => (BOARD_STAGES as readonly string[]).includes(o.stage));
  const shops = [...new Set([...all.map((o) => o.shopId), ...(counts.groups ?? []).map((g) => g.shopId)])].sort();
  const keep = (o: { channel: string; shopId: string; stage: string; stuck: boolean }, c: CardColour) =>
    (!channel || o.channel === channel) && (!shop || o.shopId === shop) && (!stage || o.stage === stage) && (!colour || c === colour || (colour === 'stuck' && o.stuck));
  const shown = all.filter((o) => keep(o, cardColour(o)));
  // The counts of every open order the filters keep; the loaded cards until the first count arrives.
  const groups = (counts.groups ?? []).filter((g) => keep(g, groupColour(g)));
  const count = (f: (o: TrackingOrderView) => boolean, g: (x: TrackingCountGroup) => boolean) =>
    counts.groups ? groups.filter(g).reduce((n, x) => n + x.count, 0) : shown.filter(f).length;
  const inStageCount = (s: string) => count((o) => o.stage === s, (x) => x.stage === s);
  const stuck = useQuery({ queryKey: ['stuck'], queryFn: () => unwrapAs<TrackingStuckOrderView[]>(api.tracking.GET('/api/tracking/stuck', { params: { query: { limit: 50 } } })), refetchInterval: 30_000 });

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Space wrap>
        <Typography.Title level={2} style={{ margin: 0 }}>{t('board')}</Typography.Title>
        <Badge id="conn" data-state={live ? 'live' : 'offline'} status={live ? 'success' : 'error'} text={live ? t('live') : t('offline')} />
        <Select aria-label={t('channel')} data-testid="f-channel" allowClear placeholder={t('channel')} style={{ width: 130 }} value={channel} onChange={setChannel}
          options={Object.entries(CHANNELS).map(([k, v]) => ({ value: k, label: pick(v) }))} />
        <Select aria-label={t('shop')} data-testid="f-shop" allowClear placeholder={t('shop')} style={{ width: 160 }} value={shop} onChange={setShop} options={shops.map((s) => ({ value: s, label: s }))} />
        <Select aria-label={t('stage')} data-testid="f-stage" allowClear placeholder={t('stage')} style={{ width: 140 }} value={stage} onChange={setStage}
          options={BOARD_STAGES.map((s) => ({ value: s, label: pick(STAGES[s]) }))} />
        <Select aria-label={t('colour')} data-testid="f-colour" allowClear placeholder={t('colour')} style={{ width: 130 }} value={colour} onChange={setColour}
          options={(['green', 'yellow', 'red', 'none', 'hold', 'stuck'] as const).map((c) => ({ value: c, label: t(c === 'hold' ? 'onHold' : c) }))} />
      </Space>
      <ProblemAlert error={error ?? counts.error} />
      <Row gutter={12}>
        {([
          ['open', count(() => true, () => true)],
          ['green', count((o) => cardColour(o) === 'green', (g) => groupColour(g) === 'green')],
          ['yellow', count((o) => cardColour(o) === 'yellow', (g) => groupColour(g) === 'yellow')],
          ['red', count((o) => cardColour(o) === 'red', (g) => groupColour(g) === 'red')],
          ['onHold', count((o) => o.flags.includes('on_hold'), (g) => g.onHold)],
          ['exception', count((o) => o.flags.includes('exception'), (g) => g.exception)],
          ['stuck', count((o) => o.stuck, (g) => g.stuck)],
        ] as const).map(([k, n]) => (
          <Col key={k}><Card size="small"><Statistic title={t(k)} value={n} data-testid={`count-${k}`} /></Card></Col>
        ))}
      </Row>
      <div style={{ display: 'grid', gridTemplateColumns: `repeat(${BOARD_STAGES.length}, minmax(150px, 1fr))`, gap: 8, overflowX: 'auto' }}>
        {BOARD_STAGES.map((s) => {
          const inStage = shown.filter((o) => o.stage === s);
          const total = inStageCount(s);
          return (
            <section key={s} data-stage={s} aria-label={pick(STAGES[s])} style={{ background: '#f3f4f6', borderRadius: 6, padding: 6, minHeight: 200 }}>
              <Typography.Title level={3} style={{ fontSize: 14, margin: '2px 4px 8px' }}>
                {pick(STAGES[s])} <span className="count" data-testid={`stage-count-${s}`}>{total}</span>
              </Typography.Title>
              {inStage.map((o) => <OrderCard key={o.orderId} o={o} />)}
              {total > inStage.length && (
                <Typography.Text type="secondary" data-testid={`stage-more-${s}`} style={{ display: 'block', margin: '4px' }}>
                  <Link to={`/orders?stage=${s}${channel ? `&channel=${channel}` : ''}`}>+{total - inStage.length} {t('notShown')}</Link>
                </Typography.Text>
              )}
            </section>
          );
        })}
      </div>
      <Row gutter={12}>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('stuckList')}>
            <Table<TrackingStuckOrderView> size="small" rowKey={(r) => r.order.orderId} pagination={false} dataSource={stuck.data ?? []}
              locale={{ emptyText: <EmptyText /> }}
              columns={[
                { title: t('orderId'), render: (_, r) => <Link to={`/orders/${r.order.orderId}`}>{r.order.channelOrderId}</Link> },
                { title: t('stage'), render: (_, r) => pick(r.order.stageLabel) },
                { title: t('reason'), render: (_, r) => pick(r.reason) },
                { title: 'h', render: (_, r) => (r.stuckForMs / 3_600_000).toFixed(1) },
              ]} />
          </Card>
        </Col>
        <Col xs={24} lg={14}><KpiCharts key={lang} /></Col>
      </Row>
    </Space>
  );
}

function OrderCard({ o }: { o: TrackingOrderView }) {
  const { t, pick, reason, money } = useI18n();
  const c = cardColour(o);
  return (
    <Link to={`/orders/${o.orderId}`} id={`o-${o.orderId}`} data-sla={o.sla.colour} data-colour={c}
      style={{ display: 'block', background: '#fff', borderLeft: `5px solid ${COLOUR_CSS[c]}`, borderRadius: 4, padding: '6px 8px', marginBottom: 6, color: '#111827' }}>
      <div style={{ fontWeight: 600 }}>{o.channelOrderId}</div>
      <div style={{ fontSize: 12 }}>{pick(CHANNELS[o.channel] ?? { zh: o.channel, en: o.channel })} · {o.shopId} · {money(o.grandTotal, o.currency)}</div>
      <div className="tags" style={{ marginTop: 4 }}>
        <Tag color={COLOUR_CSS[c]}>{t(c === 'hold' ? 'onHold' : c)}</Tag>
        {o.stuck && <Tag color="#b91c1c">{t('stuck')}</Tag>}
        {o.flags.includes('exception') && <Tag color="#9a3412">{t('exception')}</Tag>}
      </div>
      {o.exceptionCode && <div style={{ fontSize: 12, color: '#9a3412' }}>{reason({ code: o.exceptionCode, message: o.exceptionReason })}</div>}
    </Link>
  );
}

function KpiCharts() {
  const { t, pick } = useI18n();
  const kpis = useQuery({ queryKey: ['kpis'], queryFn: () => unwrapAs<TrackingKpiReport>(api.tracking.GET('/api/tracking/kpis', {})), refetchInterval: 60_000 });
  // Orders per hour come from analytics, which only roles with the analytics screen may read.
  const withAnalytics = useSession().sees('analytics');
  const hourly = useQuery({
    queryKey: ['orders-per-hour'],
    enabled: withAnalytics,
    queryFn: () => {
      const to = new Date();
      const from = new Date(to.getTime() - 7 * 86_400_000);
      return unwrap(api.analytics.GET('/api/analytics/sales', { params: { query: { by: 'hour', from: from.toISOString(), to: to.toISOString() } } }));
    },
    retry: 0,
  });
  const k = kpis.data;
  const cycle = useMemo(() => {
    const stages = BOARD_STAGES.filter((s) => k?.cycleTimeByStage[s]);
    const h = (ms: number | null | undefined) => (ms == null ? null : +(ms / 3_600_000).toFixed(2));
    return {
      tooltip: {}, legend: { top: 0 }, grid: { left: 40, right: 10, bottom: 30, top: 30 },
      xAxis: { type: 'category', data: stages.map((s) => pick(STAGES[s])) }, yAxis: { type: 'value' },
      series: [
        { name: 'p50', type: 'bar', data: stages.map((s) => h(k?.cycleTimeByStage[s]?.p50Ms)) },
        { name: 'p90', type: 'bar', data: stages.map((s) => h(k?.cycleTimeByStage[s]?.p90Ms)) },
      ],
    };
  }, [k, pick]);
  const rates = useMemo(() => {
    const items = [['exceptionRate', k?.exceptionRate], ['manualTouchRate', k?.manualTouchRate], ['autoIngestRate', k?.autoIngestRate], ['cancellationRate', k?.cancellationRate]] as const;
    return {
      tooltip: {}, grid: { left: 100, right: 20, bottom: 20, top: 10 },
      xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } }, yAxis: { type: 'category', data: items.map(([n]) => t(n)) },
      series: [{ type: 'bar', data: items.map(([, v]) => (v == null ? 0 : +(v * 100).toFixed(1))), itemStyle: { color: '#1d4ed8' } }],
    };
  }, [k, t]);
  const perChannel = useMemo(() => {
    const sums = new Map<string, number>();
    for (const r of k?.byChannelAndStage ?? []) sums.set(r.channel, (sums.get(r.channel) ?? 0) + r.orders);
    return { tooltip: {}, series: [{ type: 'pie', radius: '65%', data: [...sums].map(([c, n]) => ({ name: pick(CHANNELS[c] ?? { zh: c, en: c }), value: n })) }] };
  }, [k, pick]);
  const perHour = useMemo(() => {
    const rows = ((hourly.data as { rows?: { key: string; orders: number }[] } | undefined)?.rows ?? []);
    return { tooltip: {}, grid: { left: 40, right: 10, bottom: 30, top: 10 }, xAxis: { type: 'category', data: rows.map((r) => r.key) }, yAxis: { type: 'value' }, series: [{ type: 'line', data: rows.map((r) => r.orders) }] };
  }, [hourly.data]);
  return (
    <Card size="small" title={t('kpis')}>
      <ProblemAlert error={kpis.error} />
      <Row gutter={8}>
        <Col span={12}><Typography.Text strong>{t('cycleTime')}</Typography.Text><EChart option={cycle} label={t('cycleTime')} height={220} /></Col>
        <Col span={12}><Typography.Text strong>{t('rates')}</Typography.Text><EChart option={rates} label={t('rates')} height={220} /></Col>
        <Col span={12}><Typography.Text strong>{t('ordersPerChannel')}</Typography.Text><EChart option={perChannel} label={t('ordersPerChannel')} height={220} /></Col>
        {withAnalytics && (
          <Col span={12}>
            <Typography.Text strong>{t('ordersPerHour')}</Typography.Text>
            {hourly.error ? <Typography.Paragraph type="secondary">{t('unavailable')}</Typography.Paragraph> : <EChart option={perHour} label={t('ordersPerHour')} height={220} />}
          </Col>
        )}
      </Row>
    </Card>
  );
}
