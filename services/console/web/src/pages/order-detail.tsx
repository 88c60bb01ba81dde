import type { TrackingOrderDetailView } from '@flowline/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App as AntApp, Button, Card, Col, Descriptions, Form, Input, InputNumber, Modal, Row, Slider, Space, Table, Tag, Timeline, Tooltip, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';
import { api, newIdempotencyKey, unwrap, unwrapAs, type OrderView } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { CARRIER_STATE, CHANNELS, SHIPMENT_STATUS, STAGES, useI18n, type UiKey } from '../i18n';
import { useSession, type Ability } from '../session';
import { ChangeRequestButton } from './change-request';

interface Parcel { shipmentId: string; warehouseId: string; status: string; carrier: string | null; waybillNo: string | null; trackingNumber: string | null; carrierState: string | null; carrierStateAt: string | null; holdReason?: string | null }
type Command = 'PlaceHold' | 'ReleaseHold' | 'ResolveException' | 'Cancel' | 'RequestRefund' | 'RecordRefunded';
/**
 * What is left to refund, in yuan, as the refund dialog's starting amount: before shipment a refund
 * is the full amount paid (order-intake refuses anything else); after it, a person lowers it.
 */
function refundableYuan(o: OrderView): number | undefined {
  if (!o.payment) return undefined;
  const left = o.payment.amount - (o.refund?.refundedTotal ?? 0);
  return left > 0 ? left / 100 : undefined;
}

/** What finance confirms paid back: the refund asked for, else (a paid order cancelled) what is left of the payment. */
function owedYuan(o: OrderView): number | undefined {
  return o.refund?.pending ? o.refund.pending.amount / 100 : refundableYuan(o);
}

/** `noReason`: the command takes no reason (RecordRefunded: the amount only). */
const ACTIONS: { command: Command; label: UiKey; ability: Ability; path: string; amount?: boolean; danger?: boolean; noReason?: boolean }[] = [
  { command: 'PlaceHold', label: 'hold', ability: 'order.hold', path: '/api/orders/{orderId}/holds' },
  { command: 'ReleaseHold', label: 'releaseHold', ability: 'order.hold', path: '/api/orders/{orderId}/holds/release' },
  { command: 'ResolveException', label: 'resolveException', ability: 'order.resolve', path: '/api/orders/{orderId}/exceptions/resolve' },
  { command: 'Cancel', label: 'cancel', ability: 'order.cancel', path: '/api/orders/{orderId}/cancel', danger: true },
  { command: 'RequestRefund', label: 'refund', ability: 'order.refund', path: '/api/orders/{orderId}/refunds', amount: true, danger: true },
  { command: 'RecordRefunded', label: 'confirmRefund', ability: 'order.refund', path: '/api/orders/{orderId}/refunds/confirm', amount: true, noReason: true },
];

/** What order-intake's audited reveal answers (POST /api/orders/{orderId}/pii-reveals). */
interface RevealedPii {
  orderId: string;
  fields: string[];
  customer: { name?: string; phone?: string };
  shippingAddress: { recipient?: string; phone?: string; street?: string; detail?: string };
  revision: number;
  revealedAt: string;
}

// The reveal's words (zh-CN first); the timeline line itself comes from tracking in both languages.
const REVEAL_TEXT = {
  button: { zh: '显示完整信息', en: 'Reveal' },
  title: { zh: '显示完整信息（将记录审计）', en: 'Reveal personal data (audited)' },
  hint: { zh: '查看人、时间、字段和原因会记入订单时间线与审计记录。', en: 'Who, when, which fields and why are recorded on the order timeline and in the audit trail.' },
  reason: { zh: '查看原因', en: 'Reason' },
  shown: { zh: '已显示完整信息（已记录审计）', en: 'Revealed (audited)' },
};

/** One order: lines, totals, masked PII (audited reveal), timeline (as of a moment), shipments, actions. */
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
  const [revealOpen, setRevealOpen] = useState(false);
  const [revealed, setRevealed] = useState<RevealedPii | null>(null);
  const [revealForm] = Form.useForm<{ reason: string }>();

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
      const amount = Math.round((v.amount ?? 0) * 100);
      const body = v.a.noReason ? { amount } : v.a.amount ? { reason: v.reason, amount } : { reason: v.reason };
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

  const reveal = useMutation({
    mutationFn: (reason: string) => {
      // Not in the generated client until the integrator regenerates order-intake's OpenAPI.
      const post = api.intake.POST as unknown as (p: string, init: unknown) => Promise<{ data?: RevealedPii; error?: unknown; response: Response }>;
      return unwrap(post('/api/orders/{orderId}/pii-reveals', { params: { path: { orderId } }, body: { reason } }));
    },
    onSuccess: (r) => {
      setRevealed(r);
      setRevealOpen(false);
      // The reveal is an event on the order (new revision) and reaches tracking's timeline through Kafka.
      void qc.invalidateQueries({ queryKey: ['order', orderId] });
      for (const ms of [0, 1500, 4000]) setTimeout(() => void qc.invalidateQueries({ queryKey: ['tracking', orderId] }), ms);
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
  // A refund asked for waits for finance to confirm the money went back (not a second request);
  // a paid order cancelled owes what is left of its payment.
  // Owed: the refund asked for, or what is left of the payment of a paid order cancelled (as owedYuan).
  const owed = o.refund?.pending || o.stage === 'cancelled' ? (owedYuan(o) ?? 0) : 0;
  if (o.refund?.pending) allowed.delete('RequestRefund');
  if (owed > 0) allowed.add('RecordRefunded');
  else allowed.delete('RecordRefunded');
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="order-detail" data-revision={o.revision}>
      <Space wrap align="center">
        <Typography.Title level={2} style={{ margin: 0 }}>{o.channelOrderId}</Typography.Title>
        <Tag color="#1d4ed8" data-testid="order-stage" data-stage={o.stage}>{pick(STAGES[o.stage])}</Tag>
        {o.flags.includes('on_hold') && <Tag color="#6d28d9" data-testid="flag-hold">{t('onHold')}</Tag>}
        {o.flags.includes('exception') && <Tag color="#9a3412">{t('exception')}</Tag>}
        {o.refund?.pending && <Tag color="#b91c1c" data-testid="flag-refund-pending">{`${t('refundPending')} ${money(o.refund.pending.amount, o.totals.currency)}`}</Tag>}
      </Space>
      <Space wrap data-testid="order-actions">
        {ACTIONS.filter((a) => allowed.has(a.command)).map((a) => {
          const may = session.can(a.ability);
          return (
            <Tooltip key={a.command} title={may ? undefined : t('noPermission')}>
              <Button data-testid={`action-${a.command}`} danger={a.danger} disabled={!may} onClick={() => { form.resetFields(); if (a.amount) form.setFieldsValue({ amount: a.command === 'RecordRefunded' ? owedYuan(o) : refundableYuan(o) }); setAction({ a, key: newIdempotencyKey() }); }}>
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
                { key: 'pt', label: t('placedAt'), children: <span data-testid="placed-at">{time(o.placedAt)}</span> },
                // When the buyer paid (an imported order: the platform's 付款时间, not the import).
                { key: 'pa', label: t('paidAt'), children: <span data-testid="paid-at">{o.payment ? time(o.payment.reportedPaidAt ?? o.payment.paidAt) : '—'}</span> },
              ]} />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('customer')}
            extra={session.can('order.revealPii') && (revealed
              ? <Tag color="#b45309" data-testid="pii-revealed">{pick(REVEAL_TEXT.shown)}</Tag>
              : <Button size="small" data-testid="reveal-pii" onClick={() => { revealForm.resetFields(); setRevealOpen(true); }}>{pick(REVEAL_TEXT.button)}</Button>)}>
            <Descriptions size="small" column={1}
              items={[
                { key: 'c', label: t('channel'), children: `${pick(CHANNELS[o.channel] ?? { zh: o.channel, en: o.channel })} · ${o.shopId}` },
                { key: 'n', label: t('customer'), children: `${o.customer.nickname ?? ''} ${revealed?.customer.name ?? o.customer.nameMasked ?? ''}` },
                {
                  key: 'p',
                  label: t('phone'),
                  children: revealed
                    ? <span data-testid="phone-revealed">{revealed.customer.phone ?? revealed.shippingAddress.phone ?? '—'}</span>
                    : <span data-testid="phone-masked">{o.customer.phoneMasked ?? o.shippingAddress.phoneMasked ?? '—'}</span>,
                },
                {
                  key: 'a',
                  label: t('address'),
                  children: revealed
                    ? <span data-testid="address-revealed">{`${o.shippingAddress.province}${o.shippingAddress.city}${o.shippingAddress.district} ${revealed.shippingAddress.street ?? ''}${revealed.shippingAddress.detail ?? ''} ${revealed.shippingAddress.recipient ?? ''} ${revealed.shippingAddress.phone ?? ''}`}</span>
                    : `${o.shippingAddress.province}${o.shippingAddress.city}${o.shippingAddress.district} ${o.shippingAddress.streetMasked ?? ''} ${o.shippingAddress.recipientMasked ?? ''}`,
                },
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
              {
                title: t('stage'),
                render: (_, p) => (
                  <>
                    {pick(SHIPMENT_STATUS[p.status] ?? { zh: p.status, en: p.status })}
                    {/* Held or flagged on the order side: the warehouse does not pick, pack or ship it. */}
                    {p.holdReason && <Tag color="purple" style={{ marginLeft: 6 }} title={p.holdReason} data-testid={`parcel-held-${p.shipmentId}`}>{t('warehousePaused')}</Tag>}
                  </>
                ),
              },
              { title: t('carrier'), render: (_, p) => p.carrier ?? '—' },
              { title: t('trackingNumber'), render: (_, p) => p.trackingNumber ?? p.waybillNo ?? '—' },
              { title: t('carrierState'), render: (_, p) => (p.carrierState ? `${pick(CARRIER_STATE[p.carrierState] ?? { zh: p.carrierState, en: p.carrierState })} ${time(p.carrierStateAt)}` : '—') },
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
      <Modal open={revealOpen} title={pick(REVEAL_TEXT.title)} okText={t('ok')} confirmLoading={reveal.isPending} onCancel={() => setRevealOpen(false)}
        okButtonProps={{ 'data-testid': 'reveal-confirm' } as never}
        onOk={() => void revealForm.validateFields().then((v) => reveal.mutate(v.reason))}>
        <Typography.Paragraph type="secondary">{pick(REVEAL_TEXT.hint)}</Typography.Paragraph>
        <Form form={revealForm} layout="vertical">
          <Form.Item name="reason" label={pick(REVEAL_TEXT.reason)} rules={[{ required: true, min: 2, max: 200 }]}>
            <Input data-testid="reveal-reason" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={!!action} title={action ? t(action.a.label) : ''} okText={t('ok')} confirmLoading={run.isPending} onCancel={() => setAction(null)}
        okButtonProps={{ 'data-testid': 'action-confirm' } as never}
        onOk={() => void form.validateFields().then((v) => action && run.mutate({ ...action, ...v }))}>
        {/* A paid order cancelled owes the buyer its money: said before, confirmed by finance on this page after. */}
        {action?.a.command === 'Cancel' && refundableYuan(o) !== undefined && (
          <Alert type="warning" showIcon data-testid="cancel-refund-warning" style={{ marginBottom: 12 }}
            title={pick({ zh: `该订单已付款 ${money(Math.round((refundableYuan(o) ?? 0) * 100), o.totals.currency)}：取消后须退款给买家，财务在本页「确认退款」`, en: `This order is paid ${money(Math.round((refundableYuan(o) ?? 0) * 100), o.totals.currency)}: cancelled, the buyer is owed a refund, which finance confirms on this page` })} />
        )}
        <Form form={form} layout="vertical">
          {!action?.a.noReason && (
            <Form.Item name="reason" label={t('reason')} rules={[{ required: true }]}>
              <Input data-testid="action-reason" />
            </Form.Item>
          )}
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
