import { useMutation } from '@tanstack/react-query';
import { App as AntApp, Button, Checkbox, Descriptions, Form, Input, InputNumber, Modal, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, newIdempotencyKey, ProblemError, unwrap, type OrderView } from '../api';
import { changeRequestBody, CLEAR_PHONE, looksMasked, type ChangeDraft } from '../change-request-body';
import { ProblemAlert } from '../components';
import { useI18n } from '../i18n';
import { useSession } from '../session';

/**
 * Raises an order change request (订单变更) from the order page: the form shows each line's
 * quantity as it is (before) beside the edited value (after); only what changed is sent to
 * approval's `POST /api/change-requests` (Idempotency-Key), which computes the diff and the price
 * difference and runs the order-change chain.
 *
 * The address: staff see it masked, so the current one is read-only context and never a form value
 * (approving a masked street would write asterisks over the customer's address). Changing it means
 * typing the new street in clear (change-request-body.ts). A general manager (order.override) may give
 * a reason to let the change through the freeze after packing (特批); everyone else sees the refusal.
 */
export function ChangeRequestButton({ order, disabled }: { order: OrderView; disabled: boolean }) {
  const { t } = useI18n();
  const session = useSession();
  const mayOverride = session.can('order.override');
  const { message } = AntApp.useApp();
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState(newIdempotencyKey);
  const [form] = Form.useForm<ChangeDraft>();
  const changeAddress = Form.useWatch('changeAddress', form) === true;
  const [raised, setRaised] = useState<string | null>(null);
  const a = order.shippingAddress;
  const initial = (): ChangeDraft => ({
    quantities: Object.fromEntries(order.lines.map((l) => [l.lineId, l.quantity])),
    removed: {},
    changeAddress: false,
    // Province, city, district and postcode are shown in clear: the starting point of a new address.
    province: a.province,
    city: a.city,
    district: a.district,
    street: '',
    detail: '',
    postalCode: a.postalCode ?? '',
    recipient: '',
    phone: '',
    note: '',
    overrideReason: '',
  });
  const send = useMutation({
    mutationFn: (d: ChangeDraft) => {
      const body = changeRequestBody(order, d, { mayOverride });
      return unwrap(api.approval.POST('/api/change-requests', { params: { header: { 'Idempotency-Key': key } as never }, body } as never)) as Promise<{ approvalId?: string }>;
    },
    onSuccess: (r) => {
      setOpen(false);
      setRaised(r?.approvalId ?? '');
      void message.success(t('changeRaised'));
    },
  });
  const frozen = send.error instanceof ProblemError && send.error.problem.code === 'CHANGE_FROZEN';
  // A masked value (with *) is what staff see, never what the customer's address is.
  const clear = { validator: (_: unknown, v: unknown) => (typeof v === 'string' && looksMasked(v) ? Promise.reject(new Error(t('typeInClear'))) : Promise.resolve()) };
  // Rendered only while the address is being changed: then these are required.
  const required = { required: true, whitespace: true, message: t('required') };
  return (
    <>
      <Button data-testid="action-ChangeRequest" disabled={disabled} onClick={() => { form.resetFields(); form.setFieldsValue(initial()); setKey(newIdempotencyKey()); send.reset(); setOpen(true); }}>
        {t('changeRequest')}
      </Button>
      {raised !== null && (
        <Typography.Text data-testid="change-raised" data-approval={raised}>
          {t('changeRaised')} <Link to="/approvals">{raised}</Link>
        </Typography.Text>
      )}
      <Modal open={open} width={720} title={t('changeRequest')} okText={t('ok')} confirmLoading={send.isPending} onCancel={() => setOpen(false)}
        okButtonProps={{ 'data-testid': 'change-confirm' } as never}
        // A field the form refuses shows its reason beside it: nothing to send, nothing more to report.
        onOk={() => void form.validateFields().then(() => send.mutate(form.getFieldsValue(true) as ChangeDraft), () => undefined)}>
        <Form form={form} layout="vertical">
          <Table size="small" rowKey="lineId" pagination={false} dataSource={order.lines} scroll={{ x: 'max-content' }}
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
          <Descriptions size="small" column={1} style={{ marginTop: 12 }} title={t('currentAddress')} data-testid="change-current-address">
            <Descriptions.Item label={t('address')}>{a.province}{a.city}{a.district} {a.streetMasked ?? ''}</Descriptions.Item>
            {a.recipientMasked && <Descriptions.Item label={t('recipient')}>{a.recipientMasked}</Descriptions.Item>}
            {a.phoneMasked && <Descriptions.Item label={t('phone')}>{a.phoneMasked}</Descriptions.Item>}
            {a.postalCode && <Descriptions.Item label={t('postalCode')}>{a.postalCode}</Descriptions.Item>}
          </Descriptions>
          <Form.Item name="changeAddress" valuePropName="checked">
            <Checkbox data-testid="change-address">{t('changeAddress')}</Checkbox>
          </Form.Item>
          {changeAddress && (
            <>
              <Typography.Paragraph type="secondary">{t('changeAddressHint')}</Typography.Paragraph>
              <Form.Item name="province" label={t('province')} rules={[required, clear]}><Input data-testid="change-province" /></Form.Item>
              <Form.Item name="city" label={t('city')} rules={[required, clear]}><Input data-testid="change-city" /></Form.Item>
              <Form.Item name="district" label={t('district')} rules={[required, clear]}><Input data-testid="change-district" /></Form.Item>
              <Form.Item name="street" label={t('newStreet')} rules={[required, clear]}><Input data-testid="change-street" autoComplete="off" /></Form.Item>
              <Form.Item name="detail" label={t('addressDetail')} rules={[clear]}><Input data-testid="change-detail" autoComplete="off" /></Form.Item>
              <Form.Item name="postalCode" label={t('postalCode')} rules={[clear]}><Input data-testid="change-postcode" autoComplete="off" /></Form.Item>
              <Form.Item name="recipient" label={t('newRecipient')} rules={[clear]}><Input data-testid="change-recipient" autoComplete="off" /></Form.Item>
              <Form.Item name="phone" label={t('newPhone')} rules={[{ pattern: CLEAR_PHONE, message: t('phoneDigits') }]}><Input data-testid="change-phone" autoComplete="off" inputMode="tel" /></Form.Item>
            </>
          )}
          <Form.Item name="note" label={t('reason')}><Input data-testid="change-note" /></Form.Item>
          {mayOverride && (
            <Form.Item name="overrideReason" label={t('overrideReason')} extra={t('overrideHint')}
              rules={frozen ? [{ required: true, whitespace: true, message: t('overrideRequired') }] : []}>
              <Input.TextArea data-testid="change-override-reason" rows={2} maxLength={500} />
            </Form.Item>
          )}
        </Form>
        <ProblemAlert error={send.error} />
      </Modal>
    </>
  );
}
