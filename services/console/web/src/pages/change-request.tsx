import { useMutation } from '@tanstack/react-query';
import { App as AntApp, Button, Checkbox, Form, Input, InputNumber, Modal, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, newIdempotencyKey, unwrap, type OrderView } from '../api';
import { ProblemAlert } from '../components';
import { useI18n } from '../i18n';

interface Draft {
  quantities: Record<string, number>;
  removed: Record<string, boolean>;
  province: string;
  city: string;
  district: string;
  street: string;
  note: string;
}

/**
 * Raises an order change request (订单变更) from the order page: the form shows each line's
 * quantity and the address as they are (before) beside the edited value (after); only what
 * changed is sent to approval's `POST /api/change-requests` (Idempotency-Key), which computes the
 * diff and the price difference and runs the order-change chain.
 */
export function ChangeRequestButton({ order, disabled }: { order: OrderView; disabled: boolean }) {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState(newIdempotencyKey);
  const [form] = Form.useForm<Draft>();
  const [raised, setRaised] = useState<string | null>(null);
  const a = order.shippingAddress;
  const initial = (): Draft => ({
    quantities: Object.fromEntries(order.lines.map((l) => [l.lineId, l.quantity])),
    removed: {},
    province: a.province,
    city: a.city,
    district: a.district,
    street: a.streetMasked ?? '',
    note: '',
  });
  const send = useMutation({
    mutationFn: (d: Draft) => {
      const removeLineIds = order.lines.filter((l) => d.removed?.[l.lineId]).map((l) => l.lineId);
      const quantities = order.lines
        .filter((l) => !d.removed?.[l.lineId] && d.quantities?.[l.lineId] !== undefined && d.quantities[l.lineId] !== l.quantity)
        .map((l) => ({ lineId: l.lineId, quantity: d.quantities[l.lineId]! }));
      const addressChanged = d.province !== a.province || d.city !== a.city || d.district !== a.district || d.street !== (a.streetMasked ?? '');
      const body = {
        orderId: order.orderId,
        ...(removeLineIds.length ? { removeLineIds } : {}),
        ...(quantities.length ? { quantities } : {}),
        ...(addressChanged ? { shippingAddress: { province: d.province, city: d.city, district: d.district, streetMasked: d.street } } : {}),
        ...(d.note ? { note: d.note } : {}),
      };
      return unwrap(api.approval.POST('/api/change-requests', { params: { header: { 'Idempotency-Key': key } as never }, body } as never)) as Promise<{ approvalId?: string }>;
    },
    onSuccess: (r) => {
      setOpen(false);
      setRaised(r?.approvalId ?? '');
      void message.success(t('changeRaised'));
    },
  });
  return (
    <>
      <Button data-testid="action-ChangeRequest" disabled={disabled} onClick={() => { form.setFieldsValue(initial()); setKey(newIdempotencyKey()); send.reset(); setOpen(true); }}>
        {t('changeRequest')}
      </Button>
      {raised !== null && (
        <Typography.Text data-testid="change-raised" data-approval={raised}>
          {t('changeRaised')} <Link to="/approvals">{raised}</Link>
        </Typography.Text>
      )}
      <Modal open={open} width={720} title={t('changeRequest')} okText={t('ok')} confirmLoading={send.isPending} onCancel={() => setOpen(false)}
        okButtonProps={{ 'data-testid': 'change-confirm' } as never}
        onOk={() => void form.validateFields().then(() => send.mutate(form.getFieldsValue(true) as Draft))}>
        <Form form={form} layout="vertical">
          <Table size="small" rowKey="lineId" pagination={false} dataSource={order.lines}
            columns={[
              { title: t('title'), dataIndex: 'title' },
              { title: t('before'), render: (_, l) => l.quantity },
              {
                title: t('after'),
                render: (_, l) => (
                  <Form.Item name={['quantities', l.lineId]} noStyle>
                    <InputNumber min={1} precision={0} aria-label={`${t('after')} ${l.title}`} data-testid={`change-qty-${l.lineId}`} />
                  </Form.Item>
                ),
              },
              {
                title: t('removeLine'),
                render: (_, l) => (
                  <Form.Item name={['removed', l.lineId]} valuePropName="checked" noStyle>
                    <Checkbox aria-label={`${t('removeLine')} ${l.title}`} data-testid={`change-remove-${l.lineId}`} />
                  </Form.Item>
                ),
              },
            ]} />
          <Typography.Paragraph style={{ marginTop: 12 }}>
            {t('before')}: {a.province}{a.city}{a.district} {a.streetMasked ?? ''}
          </Typography.Paragraph>
          <Form.Item name="province" label={t('province')} rules={[{ required: true, message: t('required') }]}><Input data-testid="change-province" /></Form.Item>
          <Form.Item name="city" label={t('city')} rules={[{ required: true, message: t('required') }]}><Input data-testid="change-city" /></Form.Item>
          <Form.Item name="district" label={t('district')} rules={[{ required: true, message: t('required') }]}><Input data-testid="change-district" /></Form.Item>
          <Form.Item name="street" label={t('street')}><Input data-testid="change-street" /></Form.Item>
          <Form.Item name="note" label={t('reason')}><Input data-testid="change-note" /></Form.Item>
        </Form>
        <ProblemAlert error={send.error} />
      </Modal>
    </>
  );
}
