import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Col, Descriptions, Input, Row, Select, Space, Table, Tag, Typography, type InputRef } from 'antd';
import { useRef, useState } from 'react';
import { api, newIdempotencyKey, unwrapAs } from '../api';
import { EmptyText, PROBLEM_MESSAGE_KEY, ProblemAlert, useNotifyProblem } from '../components';
import { SHIPMENT_STATUS, useI18n } from '../i18n';
import { useSession } from '../session';
import { ReturnsReceiving } from './returns-receiving';

interface Line { lineId: string; sku: string; quantity: number; title?: string }
interface Shipment { shipmentId: string; orderId: string; channelOrderId?: string | null; warehouseId: string; status: string; lines: Line[]; scanned: Record<string, number>; carrier: string | null; waybillNo: string | null }
interface Label { shipmentId: string; orderId: string; carrier: string; waybillNo: string; lines: Line[]; barcode: { format: string; value: string } }
interface InterceptTask { orderId: string; shipmentId: string; carrier: string | null; waybillNo: string | null; packedAt: string | null; since: string }
type Post = (p: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/** Pick list per warehouse, scan-to-pack with a keyboard-wedge scanner (type + Enter), label data, intercepts. */
export function WarehousePage() {
  const { t, pick, time } = useI18n();
  const session = useSession();
  const qc = useQueryClient();
  const notify = useNotifyProblem();
  const { message } = AntApp.useApp();
  const [warehouseId, setWarehouseId] = useState<string>();
  const [current, setCurrent] = useState<Shipment | null>(null);
  const [label, setLabel] = useState<Label | null>(null);
  const [code, setCode] = useState('');
  const scanRef = useRef<InputRef>(null);
  const warehouses = useQuery({ queryKey: ['warehouses'], queryFn: () => unwrapAs<{ warehouseId: string; name: string; active?: boolean }[] | { items: { warehouseId: string; name: string; active?: boolean }[] }>(api.inventory.GET('/api/stock/warehouses', {})) });
  // Only warehouses that ship: an inactive one has nothing to pick.
  const whList = (Array.isArray(warehouses.data) ? warehouses.data : (warehouses.data?.items ?? [])).filter((w) => w.active !== false);
  const pickList = useQuery({
    queryKey: ['pick-list', warehouseId],
    enabled: !!warehouseId,
    refetchInterval: 10_000,
    queryFn: () => unwrapAs<{ shipments: Shipment[] }>(api.fulfillment.GET('/api/fulfillment/warehouses/{warehouseId}/pick-list', { params: { path: { warehouseId: warehouseId! } } } as never)),
  });
  const intercepts = useQuery({
    queryKey: ['intercepts', warehouseId],
    enabled: !!warehouseId,
    refetchInterval: 10_000,
    queryFn: () => unwrapAs<{ tasks: InterceptTask[] }>(api.fulfillment.GET('/api/fulfillment/warehouses/{warehouseId}/intercepts', { params: { path: { warehouseId: warehouseId! } } })),
  });
  const post = api.fulfillment.POST as unknown as Post;
  const act = (shipmentId: string, action: string, body: unknown = {}) =>
    unwrapAs<Shipment>(post(`/api/fulfillment/shipments/{shipmentId}/${action}`, { params: { path: { shipmentId }, header: { 'Idempotency-Key': newIdempotencyKey() } }, body }));
  const start = useMutation({
    mutationFn: async (s: Shipment) => (s.status === 'created' ? act(s.shipmentId, 'pick') : s),
    onSuccess: (s) => { setCurrent(s); setLabel(null); setTimeout(() => scanRef.current?.focus(), 50); },
    onError: notify,
  });
  const scan = useMutation({
    mutationFn: (sku: string) => act(current!.shipmentId, 'scans', { sku, quantity: 1 }),
    // A right scan after a wrong one: the wrong scan's refusal is no longer the news.
    onSuccess: (s) => { setCurrent(s); setCode(''); message.destroy(PROBLEM_MESSAGE_KEY); },
    onError: (e) => { setCode(''); notify(e); },
  });
  const pack = useMutation({
    mutationFn: async () => {
      await act(current!.shipmentId, 'pack', {});
      return unwrapAs<Label>(api.fulfillment.GET('/api/fulfillment/shipments/{shipmentId}/label', { params: { path: { shipmentId: current!.shipmentId } } } as never));
    },
    onSuccess: (l) => { setLabel(l); setCurrent(null); message.destroy(PROBLEM_MESSAGE_KEY); void qc.invalidateQueries({ queryKey: ['pick-list'] }); void message.success(t('done')); },
    onError: notify,
  });
  const intercept = useMutation({
    mutationFn: (v: { shipmentId: string; verb: 'confirm' | 'reject' }) => act(v.shipmentId, `intercept/${v.verb}`),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['pick-list'] }); void qc.invalidateQueries({ queryKey: ['intercepts'] }); void message.success(t('done')); },
    onError: notify,
  });
  const may = session.can('pack');
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Space>
        <Typography.Title level={2} style={{ margin: 0 }}>{t('warehouse')}</Typography.Title>
        <Select aria-label={t('warehouseId')} data-testid="warehouse" placeholder={t('warehouseId')} style={{ width: 220 }} value={warehouseId} onChange={setWarehouseId}
          options={whList.map((w) => ({ value: w.warehouseId, label: `${w.name} (${w.warehouseId})` }))} />
      </Space>
      <ProblemAlert error={pickList.error} />
      <Row gutter={12}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('pickList')}>
            <Table<Shipment> size="small" rowKey="shipmentId" pagination={false} dataSource={pickList.data?.shipments ?? []} locale={{ emptyText: <EmptyText /> }}
              columns={[
                { title: t('shipment'), render: (_, s) => <span data-testid={`pick-${s.orderId}`}>{s.shipmentId}</span> },
                // The platform's order number people say on the phone (淘宝/京东 订单号).
                { title: t('channelOrderId'), render: (_, s) => <span data-testid={`pick-order-${s.orderId}`}>{s.channelOrderId ?? '—'}</span> },
                { title: t('lines'), render: (_, s) => s.lines.map((l) => `${l.sku} x${l.quantity}`).join(', ') },
                { title: t('stage'), render: (_, s) => pick(SHIPMENT_STATUS[s.status] ?? { zh: s.status, en: s.status }) },
                {
                  title: t('actions'),
                  render: (_, s) => may ? (
                    <Space>
                      <Button size="small" type="primary" data-testid={`start-${s.orderId}`} onClick={() => start.mutate(s)}>{t('scanToPack')}</Button>
                    </Space>
                  ) : null,
                },
              ]} />
          </Card>
          <Card size="small" title={t('interceptTasks')} style={{ marginTop: 12 }} data-testid="intercepts">
            <Table<InterceptTask> size="small" rowKey="shipmentId" pagination={false} dataSource={intercepts.data?.tasks ?? []} locale={{ emptyText: <EmptyText /> }}
              columns={[
                { title: t('shipment'), render: (_, s) => <span data-testid={`intercept-${s.orderId}`}>{s.shipmentId}</span> },
                { title: t('carrier'), render: (_, s) => `${s.carrier ?? '—'} ${s.waybillNo ?? ''}` },
                { title: t('since'), render: (_, s) => time(s.since) },
                {
                  title: t('actions'),
                  render: (_, s) => may ? (
                    <Space>
                      <Button size="small" data-testid={`intercept-confirm-${s.orderId}`} onClick={() => intercept.mutate({ shipmentId: s.shipmentId, verb: 'confirm' })}>{t('interceptConfirm')}</Button>
                      <Button size="small" data-testid={`intercept-reject-${s.orderId}`} onClick={() => intercept.mutate({ shipmentId: s.shipmentId, verb: 'reject' })}>{t('interceptReject')}</Button>
                    </Space>
                  ) : null,
                },
              ]} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          {current && (
            <Card size="small" title={`${t('scanToPack')} · ${current.shipmentId}`} data-testid="packing">
              <Input ref={scanRef} aria-label={t('scanHere')} data-testid="scan-input" placeholder={t('scanHere')} value={code} onChange={(e) => setCode(e.target.value)}
                onPressEnter={() => code.trim() && scan.mutate(code.trim())} disabled={scan.isPending} autoFocus />
              <Table<Line> size="small" rowKey="lineId" pagination={false} style={{ marginTop: 8 }} dataSource={current.lines}
                columns={[
                  { title: t('sku'), dataIndex: 'sku' },
                  { title: t('quantity'), dataIndex: 'quantity' },
                  { title: '✓', render: (_, l) => { const n = current.scanned[l.sku] ?? 0; return <Tag color={n >= l.quantity ? '#15803d' : '#6b7280'} data-testid={`scanned-${l.sku}`}>{n}</Tag>; } },
                ]} />
              <Button type="primary" style={{ marginTop: 8 }} data-testid="pack" loading={pack.isPending} onClick={() => pack.mutate()}>{t('pack')}</Button>
            </Card>
          )}
          {label && (
            <Card size="small" title={t('label')} data-testid="label">
              <Descriptions size="small" column={1} items={[
                { key: 'c', label: t('carrier'), children: label.carrier },
                { key: 'w', label: t('trackingNumber'), children: <span data-testid="waybill">{label.waybillNo}</span> },
                { key: 'o', label: t('orderId'), children: label.orderId },
                { key: 'l', label: t('lines'), children: label.lines.map((l) => `${l.sku} x${l.quantity}`).join(', ') },
                { key: 'b', label: label.barcode.format, children: <code>{label.barcode.value}</code> },
              ]} />
              <Button aria-label="print" onClick={() => window.print()}>🖨</Button>
            </Card>
          )}
        </Col>
      </Row>
      <ReturnsReceiving may={may} />
    </Space>
  );
}
