import type { TrackingOrderDetailView } from '@flowline/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Col, Descriptions, Form, Input, InputNumber, Modal, Row, Slider, Space, Table, Tag, Timeline, Tooltip, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';
import { api, newIdempotencyKey, unwrap, unwrapAs, type OrderView } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { CHANNELS, SHIPMENT_STATUS, STAGES, useI18n, type UiKey } from '../i18n';
import { useSession, type Ability } from '../session';
import { ChangeRequestButton } from './change-request';

interface Parcel { shipmentId: string; warehouseId: string; status: string; carrier: string | null; waybillNo: string | null; trackingNumber: string | null; carrierState: string | null; carrierStateAt: string | null }
type Command = 'PlaceHold' | 'ReleaseHold' | 'ResolveException' | 'Cancel' | 'RequestRefund';
const ACTIONS: { command: Command; label: UiKey; ability: Ability; path: string; amount?: boolean; danger?: boolean }[] = [
  { command: 'PlaceHold', label: 'hold', ability: 'order.hold', path: '/api/orders/{orderId}/holds' },
  { command: 'ReleaseHold', label: 'releaseHold', ability: 'order.hold', path: '/api/orders/{orderId}/holds/release' },
  { command: 'ResolveException', label: 'resolveException', ability: 'order.resolve', path: '/api/orders/{orderId}/exceptions/resolve' },
  { command: 'Cancel', label: 'cancel', ability: 'order.cancel', path: '/api/orders/{orderId}/cancel', danger: true },
  { command: 'RequestRefund', label: 'refund', ability: 'order.refund', path: '/api/orders/{orderId}/refunds', amount: true, danger: true },
];

/** One order: lines, totals, masked PII, timeline (as of a moment), shipments, actions. */
export function OrderDetailPage() {
  const { orderId = '' } = useParams();
  const { t, pick, money, time, lang, reason } = useI18n();
  const session = useSession();
  const qc = useQueryClient();
  const notify = useNotifyProblem();
  const { message } = AntApp.useApp();
  const [asOfPct, setAsOfPct] = useState(100);
  const [action, setAction] = useState<{ a: (typeof ACTIONS)[number]; key: string } | null>(null);
  const [form] = Form.useForm<{ reason: string; amount?: number }>();

  const order = useQuery({ queryKey: ['order', orderId], queryFn: () => unwrap(api.intake.GET('/api/orders/{orderId}', { params: { path: { orderId } } })) as Promise<OrderView> });
  const tracking = useQuery({ queryKey: ['tracking', orderId], queryFn: () => unwrapAs<TrackingOrderDetailView>(api.tracking.GET('/api/tracking/orders/{orderId}', { params: { path: { orderId } } })), retry: 0 });
  const notifications = useQuery({
    queryKey: ['notifications', orderId],
    retry: 0,
    queryFn: () => unwrapAs<{ notifications: { notificationId: string; template: string; channel: string; recipientMasked: string; status: string; ruleId: string; rulesVersion: string }[] }>(
      api.notification.GET('/api/orders/{orderId}/notifications' as never, { params: { path: { orderId } } } as never),
    ),
  });
  const shipments = useQuery({ queryKey: ['fulfillment', orderId], queryFn: () => unwrap(api.fulfillment.GET('/api/fulfillment/orders/{orderId}', { params: { path: { orderId } } })), retry: 0 });

  // The as-of slider spans placedAt..now; a moment before now asks tracking for the order as it stood then.
  const span = useMemo(() => {
    const from = order.data ? Date.parse(order.data.placedAt) : Date.now();
    return { from, to: Date.now() };
  }, [order.data]);
  const asOf = asOfPct >= 100 ? null : new Date(span.from + ((span.to - span.from) * asOfPct) / 100).toISOString();
  const past = useQuery({
    queryKey: ['tracking', orderId, asOf],
    enabled: asOf !== null,
    queryFn: () => unwrapAs<TrackingOrderDetailView>(api.tracking.GET('/api/tracking/orders/{orderId}', { params: { path: { orderId }, query: { asOf: asOf! } } })),
  });
  const view = asOf ? past.data : tracking.data;

  const run = useMutation({
    mutationFn: async (v: { a: (typeof ACTIONS)[number]; key: string; reason: string; amount?: number }) => {
      const o = order.data!;
      const header = { 'Idempotency-Key': v.key, 'If-Match': `"${o.revision}"` };
      const body = v.a.amount ? { reason: v.reason, amount: Math.round((v.amount ?? 0) * 100) } : { reason: v.reason };
      // The paths are typed per operation; the five commands share one shape (path id, headers, body).
      const post = api.intake.POST as unknown as (p: string, init: unknown) => Promise<{ data?: OrderView; error?: unknown; response: Response }>;
      return unwrap(post(v.a.path, { params: { path: { orderId }, header }, body }));
    },
    onSuccess: (o) => {
      qc.setQueryData(['order', orderId], o);
      void qc.invalidateQueries({ queryKey: ['tracking', orderId] });
      setAction(null);
      void message.success(t('done'));
    },
    onError: (e) => notify(e),
  });

  if (order.error) return <ProblemAlert error={order.error} />;
  const o = order.data;
  if (!o) return <Typography.Text>{t('loading')}</Typography.Text>;
  // allowedCommands comes from the order's stage; the flags say which of hold / release / resolve apply now.
  const allowed = new Set<string>(o.allowedCommands);
  if (o.flags.includes('on_hold')) allowed.delete('PlaceHold');
  else allowed.delete('ReleaseHold');
  if (!o.flags.includes('exception')) allowed.delete('ResolveException');
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="order-detail" data-revision={o.revision}>
      <Space wrap align="center">
        <Typography.Title level={2} style={{ margin: 0 }}>{o.channelOrderId}</Typography.Title>
        <Tag color="#1d4ed8" data-testid="order-stage" data-stage={o.stage}>{pick(STAGES[o.stage])}</Tag>
        {o.flags.includes('on_hold') && <Tag color="#6d28d9" data-testid="flag-hold">{t('onHold')}</Tag>}
        {o.flags.includes('exception') && <Tag color="#9a3412">{t('exception')}</Tag>}
      </Space>
      <Space wrap data-testid="order-actions">
        {ACTIONS.filter((a) => allowed.has(a.command)).map((a) => {
          const may = session.can(a.ability);
          return (
            <Tooltip key={a.command} title={may ? undefined : t('noPermission')}>
              <Button data-testid={`action-${a.command}`} danger={a.danger} disabled={!may} onClick={() => { form.resetFields(); setAction({ a, key: newIdempotencyKey() }); }}>
                {t(a.label)}
              </Button>
            </Tooltip>
          );
        })}
        {session.can('order.change') && <ChangeRequestButton order={o} disabled={['shipped', 'delivered', 'archived', 'cancelled', 'refunded'].includes(o.stage)} />}
      </Space>
      <Row gutter={12}>
        <Col xs={24} lg={14}>
          <Card size="small" title={t('lines')}>
            <Table size="small" rowKey="lineId" pagination={false} dataSource={o.lines}
              columns={[
                { title: t('sku'), dataIndex: 'sku' },
                { title: t('title'), dataIndex: 'title' },
                { title: t('quantity'), dataIndex: 'quantity' },
                { title: t('unitPrice'), render: (_, l) => money(l.unitPrice, o.totals.currency) },
                { title: t('discount'), render: (_, l) => money(l.lineDiscount, o.totals.currency) },
              ]} />
            <Descriptions size="small" column={2} style={{ marginTop: 8 }}
              items={[
                { key: 's', label: t('subtotal'), children: money(o.totals.itemsTotal, o.totals.currency) },
                { key: 'd', label: t('discount'), children: money(o.totals.orderDiscount, o.totals.currency) },
                { key: 'f', label: t('shipping'), children: money(o.totals.shippingFee, o.totals.currency) },
                { key: 'g', label: t('total'), children: <b>{money(o.totals.grandTotal, o.totals.currency)}</b> },
                { key: 'p', label: t('paid'), children: o.payment ? money(o.payment.amount, o.payment.currency) : '—' },
              ]} />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('customer')} extra={<Tooltip title={t('revealNeedsAbility')}><Button size="small" disabled>{t('revealPii')}</Button></Tooltip>}>
            <Descriptions size="small" column={1}
              items={[
                { key: 'c', label: t('channel'), children: `${pick(CHANNELS[o.channel] ?? { zh: o.channel, en: o.channel })} · ${o.shopId}` },
                { key: 'n', label: t('customer'), children: `${o.customer.nickname ?? ''} ${o.customer.nameMasked ?? ''}` },
                { key: 'p', label: t('phone'), children: <span data-testid="phone-masked">{o.customer.phoneMasked ?? o.shippingAddress.phoneMasked ?? '—'}</span> },
                { key: 'a', label: t('address'), children: `${o.shippingAddress.province}${o.shippingAddress.city}${o.shippingAddress.district} ${o.shippingAddress.streetMasked ?? ''} ${o.shippingAddress.recipientMasked ?? ''}` },
                { key: 'h', label: t('onHold'), children: o.hold ? `${o.hold.reason} (${time(o.hold.since)})` : '—' },
                { key: 'e', label: t('exception'), children: o.exception ? `${reason({ code: o.exception.code, message: o.exception.reason, ...(o.exception.details ? { params: o.exception.details } : {}) })} (${o.exception.code})` : '—' },
              ]} />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('timeline')} key={lang}>
        <Space style={{ width: '100%' }} align="center">
          <Typography.Text>{t('asOf')}</Typography.Text>
          <Slider ariaLabelForHandle={t('asOf')} style={{ width: 320 }} min={0} max={100} value={asOfPct} onChange={setAsOfPct} tooltip={{ formatter: (v) => (v === 100 ? t('now') : time(new Date(span.from + ((span.to - span.from) * (v ?? 0)) / 100).toISOString())) }} />
          <Typography.Text data-testid="as-of">{asOf ? time(asOf) : t('now')}</Typography.Text>
          {view && <Tag>{pick(view.order.stageLabel)}</Tag>}
        </Space>
        <ProblemAlert error={tracking.error} />
        <Timeline style={{ marginTop: 16 }}
          items={(view?.timeline ?? []).map((e) => ({
            key: e.eventId,
            content: (
              <div>
                <b>{time(e.occurredAt)}</b> · {pick(e.what)} · {t('who')}: {pick(e.who)}
                {e.why && <div style={{ color: '#4b5563' }}>{pick(e.why)}</div>}
                {e.rule && <div style={{ fontSize: 12, color: '#4b5563' }}>{t('rule')}: {e.rule.ruleId} {e.rule.ruleSetVersion ?? ''}</div>}
              </div>
            ),
          }))} />
      </Card>
      <Card size="small" title={t('shipment')}>
        {shipments.error ? <Typography.Text>—</Typography.Text> : (
          <Table<Parcel> size="small" rowKey="shipmentId" pagination={false} dataSource={(shipments.data as { shipments?: Parcel[] } | undefined)?.shipments ?? []} locale={{ emptyText: <EmptyText /> }}
            columns={[
              { title: t('shipment'), dataIndex: 'shipmentId' },
              { title: t('warehouseId'), dataIndex: 'warehouseId' },
              { title: t('stage'), render: (_, p) => pick(SHIPMENT_STATUS[p.status] ?? { zh: p.status, en: p.status }) },
              { title: t('carrier'), render: (_, p) => p.carrier ?? '—' },
              { title: t('trackingNumber'), render: (_, p) => p.trackingNumber ?? p.waybillNo ?? '—' },
              { title: t('carrierState'), render: (_, p) => (p.carrierState ? `${p.carrierState} ${time(p.carrierStateAt)}` : '—') },
            ]} />
        )}
      </Card>
      <Card size="small" title={t('notifications')}>
        {notifications.error ? <Typography.Text>{t('unavailable')}</Typography.Text> : (
          <Table size="small" rowKey="notificationId" pagination={false} dataSource={notifications.data?.notifications ?? []} locale={{ emptyText: <EmptyText /> }}
            columns={[
              { title: t('template'), dataIndex: 'template' },
              { title: t('channel'), dataIndex: 'channel' },
              { title: t('customer'), dataIndex: 'recipientMasked' },
              { title: t('stage'), dataIndex: 'status' },
              { title: t('rule'), render: (_, n) => `${n.ruleId} ${n.rulesVersion}` },
            ]} />
        )}
      </Card>
      <Modal open={!!action} title={action ? t(action.a.label) : ''} okText={t('ok')} confirmLoading={run.isPending} onCancel={() => setAction(null)}
        okButtonProps={{ 'data-testid': 'action-confirm' } as never}
        onOk={() => void form.validateFields().then((v) => action && run.mutate({ ...action, ...v }))}>
        <Form form={form} layout="vertical">
          <Form.Item name="reason" label={t('reason')} rules={[{ required: true }]}>
            <Input data-testid="action-reason" />
          </Form.Item>
          {action?.a.amount && (
            <Form.Item name="amount" label={t('amountFen')} rules={[{ required: true }]}>
              <InputNumber min={0.01} step={0.01} style={{ width: 200 }} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Space>
  );
}
