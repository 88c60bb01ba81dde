import type { TrackingOrderDetailView } from '@flowline/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App as AntApp, Button, Card, Descriptions, Form, Input, List, Modal, Select, Space, Tag, Timeline, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { newIdempotencyKey, portalApi, ProblemError, toProblem, unwrap, unwrapAs, type OrderView } from '../api';
import { looksMasked } from '../change-request-body';
import { ProblemAlert } from '../components';
import { CARRIER_STATE, SHIPMENT_STATUS, STAGES, useI18n } from '../i18n';

/**
 * The customer portal (mobile-first, zh-CN first): order number + phone -> a one-time code by SMS
 * (order-intake's portal) -> the customer's own orders. The customer token is kept by the BFF behind
 * an httpOnly cookie; every call says it is the portal's (x-flowline-portal), so the BFF forwards the
 * customer's token and the services answer only the orders that token names (another order: 404).
 */
interface PortalCustomer {
  orders: string[];
  expiresAt: number;
}
interface Parcel { shipmentId: string; status: string; carrier: string | null; waybillNo: string | null; trackingNumber: string | null; carrierState: string | null; carrierStateAt: string | null }

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flowline-portal': '1' }, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) throw new ProblemError(toProblem(res.status, json));
  return json;
}

export function PortalPage() {
  const { t, lang, setLang } = useI18n();
  const qc = useQueryClient();
  const session = useQuery({
    queryKey: ['portal-session'],
    queryFn: async () => ((await (await fetch('/api/console/portal/session')).json()) as { customer: PortalCustomer | null }).customer,
  });
  const [asked, setAsked] = useState<{ orderNo: string; phone: string } | null>(null);
  const sendCode = useMutation({
    mutationFn: (v: { orderNo: string; phone: string }) => postJson('/api/order-intake/api/portal/otp', v).then(() => v),
    onSuccess: (v) => setAsked(v),
  });
  const verify = useMutation({
    mutationFn: (v: { code: string }) => postJson('/api/console/portal/session', { ...asked, code: v.code }) as Promise<PortalCustomer>,
    onSuccess: (c) => qc.setQueryData(['portal-session'], c),
  });
  // /portal/link?t=... : the signed link from an SMS is exchanged once for the customer session.
  const linkToken = location.pathname.startsWith('/portal/link') ? new URLSearchParams(location.search).get('t') : null;
  const link = useMutation({
    mutationFn: (token: string) => postJson('/api/console/portal/link', { token }) as Promise<PortalCustomer>,
    onSuccess: (c) => {
      qc.setQueryData(['portal-session'], c);
      history.replaceState(null, '', '/portal');
    },
  });
  const linkTried = useRef(false);
  useEffect(() => {
    if (linkToken && !linkTried.current) {
      linkTried.current = true;
      link.mutate(linkToken);
    }
  }, [linkToken, link]);
  const leave = async () => {
    await fetch('/api/console/portal/logout', { method: 'POST' });
    setAsked(null);
    qc.setQueryData(['portal-session'], null);
  };
  const customer = session.data;
  return (
    <main style={{ maxWidth: 480, margin: '0 auto', padding: 16 }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={1} style={{ fontSize: 22 }}>{t('portalTitle')}</Typography.Title>
        <Space>
          {customer && <Button size="small" data-testid="portal-logout" onClick={() => void leave()}>{t('logout')}</Button>}
          <Select aria-label={t('language')} data-testid="portal-lang" size="small" value={lang} onChange={(l: 'zh' | 'en') => setLang(l)} options={[{ value: 'zh', label: '中文' }, { value: 'en', label: 'English' }]} />
        </Space>
      </Space>
      <ProblemAlert error={link.error} />
      {customer ? (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="portal-orders">
          {customer.orders.length === 0 && <Typography.Text>{t('portalNoOrders')}</Typography.Text>}
          {customer.orders.map((id) => <PortalOrder key={id} orderId={id} />)}
        </Space>
      ) : (
        <Card>
          <Typography.Paragraph>{t('portalHint')}</Typography.Paragraph>
          <Form layout="vertical" onFinish={(v: { orderNo: string; phone: string }) => sendCode.mutate({ orderNo: v.orderNo.trim(), phone: v.phone.trim() })}>
            <Form.Item name="orderNo" label={t('orderNo')} rules={[{ required: true, message: t('required') }]}><Input inputMode="text" autoComplete="off" data-testid="portal-order" /></Form.Item>
            <Form.Item name="phone" label={t('phone')} rules={[{ required: true, pattern: /^1\d{10}$/, message: t('phoneFormat') }]}><Input inputMode="tel" autoComplete="tel" data-testid="portal-phone" /></Form.Item>
            <Button type="primary" htmlType="submit" block size="large" loading={sendCode.isPending} data-testid="portal-send">{asked ? t('resendCode') : t('sendCode')}</Button>
          </Form>
          <ProblemAlert error={sendCode.error} />
          {asked && (
            <Form layout="vertical" style={{ marginTop: 16 }} onFinish={(v: { code: string }) => verify.mutate(v)}>
              <Alert type="info" showIcon title={t('codeSent')} style={{ marginBottom: 12 }} data-testid="portal-code-sent" />
              <Form.Item name="code" label={t('oneTimeCode')} rules={[{ required: true, pattern: /^\d{6}$/, message: t('codeFormat') }]}>
                <Input inputMode="numeric" autoComplete="one-time-code" maxLength={6} data-testid="portal-code" />
              </Form.Item>
              <Button type="primary" htmlType="submit" block size="large" loading={verify.isPending} data-testid="portal-verify">{t('viewMyOrder')}</Button>
              <ProblemAlert error={verify.error} />
            </Form>
          )}
        </Card>
      )}
    </main>
  );
}

/** One of the customer's orders: stage in plain words, expected ship date, timeline, parcels, and what the customer may ask. */
function PortalOrder({ orderId }: { orderId: string }) {
  const { t, pick, time, money } = useI18n();
  const qc = useQueryClient();
  const { message } = AntApp.useApp();
  const [dialog, setDialog] = useState<null | 'cancel' | 'address'>(null);
  const [key, setKey] = useState(newIdempotencyKey);
  const [form] = Form.useForm<{ reason?: string; province?: string; city?: string; district?: string; street?: string }>();
  const order = useQuery({ queryKey: ['portal-order', orderId], queryFn: () => unwrap(portalApi.intake.GET('/api/orders/{orderId}', { params: { path: { orderId } } })) as Promise<OrderView> });
  const tracking = useQuery({ queryKey: ['portal-tracking', orderId], retry: 0, queryFn: () => unwrapAs<TrackingOrderDetailView>(portalApi.tracking.GET('/api/tracking/orders/{orderId}', { params: { path: { orderId } } })) });
  const parcels = useQuery({ queryKey: ['portal-parcels', orderId], retry: 0, queryFn: () => unwrapAs<{ shipments?: Parcel[] }>(portalApi.fulfillment.GET('/api/fulfillment/orders/{orderId}', { params: { path: { orderId } } })) });
  const ask = useMutation({
    mutationFn: async (v: { reason?: string; province?: string; city?: string; district?: string; street?: string }) => {
      const o = order.data!;
      if (dialog === 'cancel') {
        return unwrap(portalApi.intake.POST('/api/orders/{orderId}/cancel', { params: { path: { orderId }, header: { 'Idempotency-Key': key, 'If-Match': `"${o.revision}"` } as never }, body: { reason: v.reason ?? '' } } as never));
      }
      return unwrap(
        portalApi.approval.POST('/api/change-requests', {
          params: { header: { 'Idempotency-Key': key } as never },
          body: { orderId, shippingAddress: { province: v.province!, city: v.city!, district: v.district!, street: v.street!.trim() }, note: v.reason ?? '' },
        } as never),
      );
    },
    onSuccess: () => {
      setDialog(null);
      void message.success(dialog === 'cancel' ? t('portalCancelled') : t('portalChangeRequested'));
      void qc.invalidateQueries({ queryKey: ['portal-order', orderId] });
      void qc.invalidateQueries({ queryKey: ['portal-tracking', orderId] });
    },
  });
  if (order.error) return <ProblemAlert error={order.error} />;
  const o = order.data;
  if (!o) return <Typography.Text>{t('loading')}</Typography.Text>;
  const canCancel = o.allowedCommands.includes('Cancel');
  const canChange = !['shipped', 'delivered', 'archived', 'cancelled', 'refunded'].includes(o.stage);
  const shipBy = (o as { presale?: { shipNotBefore?: string } }).presale?.shipNotBefore;
  const open = (d: 'cancel' | 'address') => {
    form.resetFields();
    setKey(newIdempotencyKey());
    setDialog(d);
  };
  return (
    <Card data-testid={`portal-order-${orderId}`} title={<span>{o.channelOrderId}</span>} extra={<Tag color="#1d4ed8" data-testid="portal-stage" data-stage={o.stage}>{pick(STAGES[o.stage])}</Tag>}>
      <Descriptions size="small" column={1}
        items={[
          { key: 'p', label: t('placedAt'), children: time(o.placedAt) },
          { key: 's', label: t('expectedShip'), children: shipBy ? time(shipBy) : t('expectedShipSoon') },
          { key: 'l', label: t('lines'), children: o.lines.map((l) => `${l.title} ×${l.quantity}`).join('，') },
          { key: 'g', label: t('total'), children: money(o.totals.grandTotal, o.totals.currency) },
          { key: 'a', label: t('address'), children: `${o.shippingAddress.province}${o.shippingAddress.city}${o.shippingAddress.district} ${o.shippingAddress.streetMasked ?? ''}` },
        ]} />
      <Typography.Title level={2} style={{ fontSize: 16 }}>{t('shipment')}</Typography.Title>
      <List size="small" data-testid="portal-parcels" dataSource={parcels.data?.shipments ?? []} locale={{ emptyText: <span style={{ color: '#595959' }}>{t('portalNoParcel')}</span> }}
        renderItem={(p) => (
          <List.Item>
            {pick(SHIPMENT_STATUS[p.status] ?? { zh: p.status, en: p.status })} · {p.carrier ?? '—'} {p.trackingNumber ?? p.waybillNo ?? ''} {p.carrierState ? `· ${pick(CARRIER_STATE[p.carrierState] ?? { zh: p.carrierState, en: p.carrierState })} ${time(p.carrierStateAt)}` : ''}
          </List.Item>
        )} />
      <Typography.Title level={2} style={{ fontSize: 16 }}>{t('timeline')}</Typography.Title>
      <Timeline data-testid="portal-timeline"
        items={(tracking.data?.timeline ?? []).map((e) => ({ key: e.eventId, content: <span><b>{time(e.occurredAt)}</b> · {pick(e.what)}</span> }))} />
      <Space wrap>
        <Button danger disabled={!canCancel} data-testid="portal-cancel" onClick={() => open('cancel')}>{t('portalRequestCancel')}</Button>
        <Button disabled={!canChange} data-testid="portal-address" onClick={() => open('address')}>{t('portalChangeAddress')}</Button>
      </Space>
      <Modal open={!!dialog} title={dialog === 'cancel' ? t('portalRequestCancel') : t('portalChangeAddress')} okText={t('ok')} confirmLoading={ask.isPending}
        okButtonProps={{ 'data-testid': 'portal-confirm' } as never} onCancel={() => setDialog(null)}
        onOk={() => void form.validateFields().then((v) => ask.mutate(v), () => undefined)}>
        <Form form={form} layout="vertical">
          {dialog === 'address' && (
            <>
              <Form.Item name="province" label={t('province')} rules={[{ required: true, message: t('required') }]}><Input data-testid="portal-province" /></Form.Item>
              <Form.Item name="city" label={t('city')} rules={[{ required: true, message: t('required') }]}><Input data-testid="portal-city" /></Form.Item>
              <Form.Item name="district" label={t('district')} rules={[{ required: true, message: t('required') }]}><Input data-testid="portal-district" /></Form.Item>
              <Form.Item name="street" label={t('street')} rules={[{ required: true, whitespace: true, message: t('required') }, { validator: (_, v: unknown) => (typeof v === 'string' && looksMasked(v) ? Promise.reject(new Error(t('typeInClear'))) : Promise.resolve()) }]}><Input data-testid="portal-street" /></Form.Item>
            </>
          )}
          <Form.Item name="reason" label={t('reason')} rules={[{ required: dialog === 'cancel', message: t('required') }]}><Input data-testid="portal-reason" /></Form.Item>
        </Form>
        <ProblemAlert error={ask.error} />
      </Modal>
    </Card>
  );
}
