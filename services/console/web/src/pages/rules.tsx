import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Form, Input, Row, Select, Space, Typography } from 'antd';
import { api, ProblemError, toProblem, unwrapAs } from '../api';
import { onUnauthorized } from '../session';
import { ProblemAlert, useNotifyProblem } from '../components';
import { useI18n } from '../i18n';


/**
 * Rules as the services publish them today: approval chains (approval) and notification rules
 * (notification), with a notification preview against a chosen order ("what would be sent").
 * Editing and the flow-rule dry run need a rules API in the services (not there yet): shown as such.
 */
export function RulesPage() {
  const { t, lang } = useI18n();
  const notify = useNotifyProblem();
  const chains = useQuery({ queryKey: ['chains'], retry: 0, queryFn: () => unwrapAs<unknown>(api.approval.GET('/api/approvals/chains' as never, {} as never)) });
  const config = useQuery({ queryKey: ['notification-config'], retry: 0, queryFn: () => fetchJson('/api/notification/api/notifications-config') });
  const [form] = Form.useForm<{ orderId: string; template: string; channel: string }>();
  const preview = useMutation({
    mutationFn: (v: { orderId: string; template: string; channel: string }) =>
      fetchJson('/api/notification/api/notifications/preview', { method: 'POST', body: JSON.stringify({ ...v, locale: lang === 'zh' ? 'zh-CN' : 'en' }) }),
    onError: notify,
  });
  const rules = ((config.data as { rules?: { id?: string; template?: string }[] } | undefined)?.rules ?? []) as { id?: string; template?: string; trigger?: string }[];
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('rules')}</Typography.Title>
      <Alert type="info" showIcon title={lang === 'zh' ? '规则编辑与流程规则试运行需要服务端的规则 API（尚未提供），此处为只读视图与通知预览。' : 'Editing and the flow-rule dry run need a rules API in the services (not there yet): read-only view and notification preview.'} />
      <Row gutter={12}>
        <Col xs={24} lg={12}>
          <Card size="small" title={`${t('chain')} (approval)`}>
            <ProblemAlert error={chains.error} />
            <pre style={{ fontSize: 12, maxHeight: 420, overflow: 'auto' }}>{chains.data ? JSON.stringify(chains.data, null, 2) : ''}</pre>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('notificationRules')}>
            <ProblemAlert error={config.error} />
            <pre style={{ fontSize: 12, maxHeight: 220, overflow: 'auto' }}>{config.data ? JSON.stringify(config.data, null, 2).slice(0, 4000) : ''}</pre>
            <Form form={form} layout="inline" initialValues={{ channel: 'sms' }} onFinish={(v) => preview.mutate(v)}>
              <Form.Item name="orderId" rules={[{ required: true }]}><Input aria-label={t('orderId')} placeholder={t('orderId')} /></Form.Item>
              <Form.Item name="template" rules={[{ required: true }]}>
                <Select aria-label={t('template')} placeholder={t('template')} style={{ width: 180 }} options={[...new Set(rules.map((r) => r.template).filter(Boolean))].map((x) => ({ value: x!, label: x! }))} />
              </Form.Item>
              <Form.Item name="channel"><Select aria-label={t('channel')} style={{ width: 110 }} options={['sms', 'email', 'wechat', 'dingtalk'].map((c) => ({ value: c, label: c }))} /></Form.Item>
              <Button htmlType="submit" loading={preview.isPending}>{t('preview')}</Button>
            </Form>
            {preview.data != null && <pre style={{ fontSize: 12, whiteSpace: 'pre-wrap' }}>{JSON.stringify(preview.data, null, 2)}</pre>}
          </Card>
        </Col>
      </Row>
    </Space>
  );
}

/** notification's OpenAPI has no typed paths for these yet; a plain call through the BFF (it adds the session's token). */
async function fetchJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  if (res.status === 401) onUnauthorized();
  const body = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) throw new ProblemError(toProblem(res.status, body));
  return body;
}
