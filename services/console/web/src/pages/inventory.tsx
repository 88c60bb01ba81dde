import type { TrackingShortageOrder, TrackingShortages, TrackingShortageSku } from '@flowline/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Col, Descriptions, Form, Input, InputNumber, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, newIdempotencyKey, unwrap, unwrapAs } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { CHANNELS, useI18n } from '../i18n';
import { useSession } from '../session';

interface Level { warehouseId: string; warehouseName: string; onHand: number; reserved: number; available: number; backordered: number; safetyStock: number }
interface SkuStock {
  sku: string;
  name: string;
  rules: { lowStockThreshold?: number | null; safetyStock: number; allowBackorder: boolean };
  warehouses: Level[];
  total: { onHand: number; reserved: number; available: number; backordered: number };
  atp: Record<string, number>;
}
interface Warehouse { warehouseId: string; name: string }
interface ShortageRetryOutcome { retried: string[]; waiting: { orderId: string; reason: string }[]; skipped: string[]; candidates: number }
interface LowStockItem { sku: string; name: string; threshold: number; available: number; onHand: number; reserved: number; shortfall: number }

/** Stock per SKU and warehouse, ATP per channel, reservations of an order, receipts and adjustments (by role), ledger verify. */
export function InventoryPage() {
  const { t, pick, time, lang } = useI18n();
  const session = useSession();
  const qc = useQueryClient();
  const notify = useNotifyProblem();
  const { message } = AntApp.useApp();
  const [sku, setSku] = useState<string>();
  const [orderId, setOrderId] = useState<string>();
  const stock = useQuery({ queryKey: ['stock', sku], enabled: !!sku, retry: 0, queryFn: () => unwrapAs<SkuStock>(api.inventory.GET('/api/stock/skus/{sku}', { params: { path: { sku: sku! } } })) });
  const warehouses = useQuery({ queryKey: ['warehouses'], queryFn: () => unwrapAs<Warehouse[] | { items: Warehouse[] }>(api.inventory.GET('/api/stock/warehouses', {})) });
  const whList = Array.isArray(warehouses.data) ? warehouses.data : (warehouses.data?.items ?? []);
  const reservation = useQuery({ queryKey: ['reservation', orderId], enabled: !!orderId, retry: 0, queryFn: () => unwrapAs<{ reservation: Record<string, unknown>; openLines: Record<string, unknown>[] }>(api.inventory.GET('/api/stock/reservations/{orderId}', { params: { path: { orderId: orderId! } } })) });
  const verify = useMutation({ mutationFn: () => unwrapAs<Record<string, unknown>>(api.inventory.GET('/api/stock/verify', { params: { query: { deep: 'false' } } } as never)) });
  const [form] = Form.useForm<{ kind: 'receipt' | 'adjustment'; warehouseId: string; quantity: number; reference: string }>();
  const move = useMutation({
    mutationFn: (v: { kind: 'receipt' | 'adjustment'; warehouseId: string; quantity: number; reference: string }) => {
      const header = { 'Idempotency-Key': newIdempotencyKey() };
      return v.kind === 'receipt'
        ? unwrap(api.inventory.POST('/api/stock/receipts', { params: { header } as never, body: { sku: sku!, warehouseId: v.warehouseId, quantity: v.quantity, reference: v.reference } }))
        : unwrap(api.inventory.POST('/api/stock/adjustments', { params: { header } as never, body: { sku: sku!, warehouseId: v.warehouseId, delta: v.quantity, reason: 'count', note: v.reference } }));
    },
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['stock', sku] }); void qc.invalidateQueries({ queryKey: ['low-stock'] }); void message.success(t('done')); },
    onError: notify,
  });
  const shortages = useQuery({ queryKey: ['shortages'], retry: 0, refetchInterval: 30_000, queryFn: () => unwrapAs<TrackingShortages>(api.tracking.GET('/api/tracking/shortages', {})) });
  const refreshShortages = () => { for (const ms of [0, 1_500, 4_000]) setTimeout(() => void qc.invalidateQueries({ queryKey: ['shortages'] }), ms); };
  // 到货重新预占: order-intake tries the SKU's waiting orders again, first placed first, each whose lines
  // the stock now covers (POST /api/orders/shortages/retry); inventory still decides.
  const reserveAgain = useMutation({
    mutationFn: (forSku: string) => unwrapAs<ShortageRetryOutcome>(api.intake.POST('/api/orders/shortages/retry', { body: { sku: forSku } })),
    onSuccess: (r, forSku) => {
      const [colon, sep] = lang === 'zh' ? ['：', '，'] : [': ', ', '];
      void message.success(`${forSku}${colon}${t('reservedAgain')} ${r.retried.length}${sep}${t('stillWaiting')} ${r.waiting.length}${r.skipped.length ? `${sep}${t('handledElsewhere')} ${r.skipped.length}` : ''}`);
      refreshShortages();
      void qc.invalidateQueries({ queryKey: ['stock', forSku] });
    },
    onError: notify,
  });
  const lowStock = useQuery({ queryKey: ['low-stock'], retry: 0, queryFn: () => unwrapAs<{ items: LowStockItem[] }>(api.inventory.GET('/api/stock/low-stock', { params: { query: { limit: '50' } } })) });
  const s = stock.data;
  const low = s && s.rules.lowStockThreshold != null && s.total.available <= s.rules.lowStockThreshold;
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('inventory')}</Typography.Title>
      <Space wrap>
        <Input.Search aria-label={t('sku')} data-testid="sku-search" placeholder={t('sku')} enterButton={t('search')} onSearch={(v) => setSku(v.trim() || undefined)} style={{ width: 300 }} />
        <Input.Search aria-label={t('reservations')} placeholder={`${t('reservations')}: ${t('orderId')}`} enterButton={t('search')} onSearch={(v) => setOrderId(v.trim() || undefined)} style={{ width: 360 }} />
        <Button onClick={() => verify.mutate()} loading={verify.isPending}>{t('verifyLedger')}</Button>
      </Space>
      <ProblemAlert error={stock.error ?? verify.error ?? reservation.error} />
      {verify.data && <Card size="small" title={t('verifyLedger')}><pre style={{ margin: 0, fontSize: 12 }}>{JSON.stringify(verify.data, null, 1).slice(0, 1500)}</pre></Card>}
      {s && (
        <Row gutter={12}>
          <Col xs={24} lg={15}>
            <Card size="small" title={<span data-testid="stock-title">{s.sku} · {s.name} {low && <Tag color="#b91c1c">{t('lowStock')}</Tag>}</span>}>
              <Table<Level> size="small" rowKey="warehouseId" pagination={false} dataSource={s.warehouses} locale={{ emptyText: <EmptyText /> }}
                columns={[
                  { title: t('warehouseId'), render: (_, w) => `${w.warehouseName} (${w.warehouseId})` },
                  { title: t('onHand'), dataIndex: 'onHand' },
                  { title: t('reserved'), dataIndex: 'reserved' },
                  { title: t('available'), dataIndex: 'available', render: (v: number) => <span data-testid="available">{v}</span> },
                ]} />
              <Descriptions size="small" style={{ marginTop: 8 }} column={4} items={[
                { key: 'o', label: t('onHand'), children: s.total.onHand },
                { key: 'r', label: t('reserved'), children: s.total.reserved },
                { key: 'a', label: t('available'), children: <span data-testid="total-available">{s.total.available}</span> },
                ...Object.entries(s.atp).map(([c, n]) => ({ key: c, label: `ATP ${pick(CHANNELS[c] ?? { zh: c, en: c })}`, children: n })),
              ]} />
            </Card>
          </Col>
          <Col xs={24} lg={9}>
            <Card size="small" title={`${t('receipt')} / ${t('adjustment')}`}>
              {session.can('stock.adjust') ? (
                <Form form={form} layout="vertical" initialValues={{ kind: 'receipt' }} onFinish={(v) => move.mutate(v)}>
                  <Form.Item name="kind" label={t('actions')}><Select options={[{ value: 'receipt', label: t('receipt') }, { value: 'adjustment', label: t('adjustment') }]} /></Form.Item>
                  <Form.Item name="warehouseId" label={t('warehouseId')} rules={[{ required: true }]}><Select data-testid="move-warehouse" options={whList.map((w) => ({ value: w.warehouseId, label: `${w.name} (${w.warehouseId})` }))} /></Form.Item>
                  <Form.Item name="quantity" label={t('quantity')} rules={[{ required: true }]}><InputNumber data-testid="move-quantity" style={{ width: '100%' }} /></Form.Item>
                  <Form.Item name="reference" label={`${t('reference')} / ${t('reason')}`} rules={[{ required: true }]}><Input data-testid="move-reference" /></Form.Item>
                  <Button type="primary" htmlType="submit" data-testid="move-submit" loading={move.isPending}>{t('ok')}</Button>
                </Form>
              ) : <Typography.Text>{t('noPermission')}</Typography.Text>}
            </Card>
          </Col>
        </Row>
      )}
      <Card size="small" title={t('lowStockList')} data-testid="low-stock">
        {lowStock.error ? <ProblemAlert error={lowStock.error} /> : (
          <Table<LowStockItem> size="small" rowKey="sku" pagination={false} dataSource={lowStock.data?.items ?? []} locale={{ emptyText: <EmptyText /> }}
            columns={[
              { title: t('sku'), render: (_, i) => <Typography.Link data-testid={`low-${i.sku}`} onClick={() => setSku(i.sku)}>{i.sku}</Typography.Link> },
              { title: t('title'), dataIndex: 'name' },
              { title: t('available'), dataIndex: 'available' },
              { title: t('lowStockThreshold'), dataIndex: 'threshold' },
              { title: t('shortfall'), dataIndex: 'shortfall' },
            ]} />
        )}
      </Card>
      <Card size="small" title={`${t('shortageList')}${shortages.data ? ` · ${shortages.data.orders}` : ''}`} data-testid="shortages">
        <Typography.Paragraph type="secondary" style={{ marginTop: 0 }}>{t('shortageHint')}</Typography.Paragraph>
        {shortages.error ? <ProblemAlert error={shortages.error} /> : (
          <Table<TrackingShortageSku> size="small" rowKey="sku" pagination={{ pageSize: 20, hideOnSinglePage: true }} dataSource={shortages.data?.skus ?? []} locale={{ emptyText: <EmptyText /> }}
            expandable={{ expandedRowRender: (i) => <WaitingOrders sku={i.sku} />, rowExpandable: () => true }}
            columns={[
              { title: t('sku'), render: (_, i) => <Typography.Link data-testid={`short-${i.sku}`} onClick={() => setSku(i.sku)}>{i.sku}</Typography.Link> },
              { title: t('waitingOrders'), render: (_, i) => <span data-testid={`short-count-${i.sku}`}>{i.orders}</span> },
              { title: t('unitsRequested'), render: (_, i) => <span data-testid={`short-units-${i.sku}`}>{i.unitsRequested}</span> },
              { title: t('waitingSince'), render: (_, i) => time(i.waitingSince) },
              // Stock is shared by every shop: only a user who sees every shop's waiting orders retries them (order-intake refuses others).
              ...(session.can('order.resolve') && session.user.shops.includes('*')
                ? [{ title: t('actions'), render: (_: unknown, i: TrackingShortageSku) => <Button size="small" data-testid={`reserve-again-${i.sku}`} loading={reserveAgain.isPending && reserveAgain.variables === i.sku} disabled={reserveAgain.isPending} onClick={() => reserveAgain.mutate(i.sku)}>{t('reserveAgain')}</Button> }]
                : []),
            ]} />
        )}
      </Card>
      {reservation.data && (
        <Card size="small" title={`${t('reservations')} · ${orderId}`}>
          <Table size="small" rowKey={(r) => JSON.stringify(r)} pagination={false} dataSource={reservation.data.openLines} locale={{ emptyText: <EmptyText /> }}
            columns={Object.keys(reservation.data.openLines[0] ?? { sku: 1 }).slice(0, 6).map((k) => ({ title: k, dataIndex: k, render: (v: unknown) => String(v ?? '') }))} />
        </Card>
      )}
    </Space>
  );
}

/** The orders waiting for one SKU, longest first, each linked to its page (a shortage row expanded). */
function WaitingOrders({ sku }: { sku: string }) {
  const { t, time, pick } = useI18n();
  const orders = useQuery({ queryKey: ['shortages', sku], retry: 0, queryFn: () => unwrapAs<TrackingShortageOrder[]>(api.tracking.GET('/api/tracking/shortages/orders', { params: { query: { sku } } })) });
  if (orders.error) return <ProblemAlert error={orders.error} />;
  return (
    <Table<TrackingShortageOrder> size="small" rowKey="orderId" loading={orders.isLoading} pagination={{ pageSize: 20, hideOnSinglePage: true }} dataSource={orders.data ?? []} locale={{ emptyText: <EmptyText /> }} data-testid={`waiting-${sku}`}
      columns={[
        { title: t('channelOrderId'), render: (_, o) => <Link to={`/orders/${o.orderId}`} data-testid={`waiting-order-${o.orderId}`}>{o.channelOrderId}</Link> },
        { title: t('channel'), render: (_, o) => pick(CHANNELS[o.channel] ?? { zh: o.channel, en: o.channel }) },
        { title: t('quantity'), dataIndex: 'requested' },
        { title: t('availableThen'), dataIndex: 'available' },
        { title: t('shortfall'), render: (_, o) => o.missing.map((m) => `${m.sku} ${m.available}/${m.requested}`).join(', ') },
        { title: t('waitingSince'), render: (_, o) => time(o.waitingSince) },
      ]} />
  );
}
