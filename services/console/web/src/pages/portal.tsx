import { Alert, Button, Card, Form, Input, Select, Space, Typography } from 'antd';
import { useState } from 'react';
import { useI18n } from '../i18n';

/**
 * The customer portal (mobile-first): order number + phone -> one-time code -> the order. The code
 * and the customer-scoped lookup need #16 (customer identity) and #15 (SMS sending); until they land
 * the screen takes the input and says the service is not available, and never shows an order.
 */
export function PortalPage() {
  const { t, lang, setLang } = useI18n();
  const [step, setStep] = useState<'ask' | 'code'>('ask');
  return (
    <main style={{ maxWidth: 420, margin: '0 auto', padding: 16 }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={1} style={{ fontSize: 22 }}>{t('portalTitle')}</Typography.Title>
        <Select aria-label={t('language')} data-testid="portal-lang" size="small" value={lang} onChange={(l: 'zh' | 'en') => setLang(l)} options={[{ value: 'zh', label: '中文' }, { value: 'en', label: 'English' }]} />
      </Space>
      <Card>
        <Typography.Paragraph>{t('portalHint')}</Typography.Paragraph>
        <Form layout="vertical" onFinish={() => setStep('code')}>
          <Form.Item name="order" label={t('orderId')} rules={[{ required: true }]}><Input inputMode="text" autoComplete="off" data-testid="portal-order" /></Form.Item>
          <Form.Item name="phone" label={t('phone')} rules={[{ required: true, pattern: /^1\d{10}$/ }]}><Input inputMode="tel" autoComplete="tel" data-testid="portal-phone" /></Form.Item>
          <Button type="primary" htmlType="submit" block size="large">{t('sendCode')}</Button>
        </Form>
        {step === 'code' && (
          <Alert style={{ marginTop: 12 }} type="warning" showIcon data-testid="portal-unavailable"
            title={lang === 'zh' ? '验证码服务尚未上线（需要 #16 顾客身份与 #15 短信），暂时无法查询订单。' : 'The one-time code service is not live yet (needs #16 customer identity and #15 SMS): orders cannot be looked up yet.'} />
        )}
      </Card>
    </main>
  );
}
