import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Input, InputNumber, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, newIdempotencyKey, unwrap, unwrapAs } from '../api';
import { EmptyText, ProblemAlert } from '../components';
import { useI18n } from '../i18n';

interface Return {
  rmaId: string;
  shipmentId: string;
  warehouseId: string;
  expected: { sku: string; quantity: number }[];
  status: 'requested' | 'received';
  received: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[];
}
type Condition = 'resellable' | 'damaged';
interface Row { sku: string; quantity: number; condition?: Condition }

/**
 * Returns receiving (退货入库): find the order's returns (fulfillment's order view), count what came
 * back per SKU with its condition, and record it (`POST .../returns/{rmaId}/receive`, Idempotency-Key):
 * resellable units go back to stock (inventory receipt), damaged ones are written off.
 */
export function ReturnsReceiving({ may }: { may: boolean }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const { message } = AntApp.useApp();
  const [orderId, setOrderId] = useState<string>();
  const [counts, setCounts] = useState<Record<string, { quantity: number; condition: Condition }>>({});
  const order = useQuery({
    queryKey: ['returns', orderId],
    enabled: !!orderId,
    retry: 0,
    queryFn: () => unwrapAs<{ returns?: Return[] }>(api.fulfillment.GET('/api/fulfillment/orders/{orderId}', { params: { path: { orderId: orderId! } } })),
  });
  const receive = useMutation({
    mutationFn: (r: Return) => {
      const lines = r.expected.map((l) => {
        const c = counts[`${r.rmaId}:${l.sku}`];
        return { sku: l.sku, quantity: c?.quantity ?? l.quantity, condition: c?.condition ?? 'resellable' };
      }).filter((l) => l.quantity > 0);
      return unwrap(api.fulfillment.POST('/api/fulfillment/orders/{orderId}/returns/{rmaId}/receive', {
        params: { path: { orderId: orderId!, rmaId: r.rmaId }, header: { 'idempotency-key': newIdempotencyKey() } },
        body: { lines },
      } as never));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['returns', orderId] });
      void message.success(t('done'));
    },
  });
  const returns = order.data?.returns ?? [];
  return (
    <Card size="small" title={t('returnsReceiving')} data-testid="returns">
      <Input.Search aria-label={`${t('returnsReceiving')}: ${t('orderId')}`} data-testid="returns-order" placeholder={t('orderId')} enterButton={t('search')} onSearch={(v) => setOrderId(v.trim() || undefined)} style={{ maxWidth: 360 }} />
      <ProblemAlert error={order.error ?? receive.error} />
      {orderId && !order.isPending && !order.error && returns.length === 0 && <Typography.Paragraph style={{ marginTop: 8 }}>{t('noReturns')}</Typography.Paragraph>}
      {returns.map((r) => (
        <Card key={r.rmaId} size="small" style={{ marginTop: 8 }} data-testid={`rma-${r.rmaId}`} data-status={r.status}
          title={<Space>{r.rmaId}<Tag color={r.status === 'received' ? '#15803d' : '#1d4ed8'}>{r.status === 'received' ? t('returnReceived') : t('returnExpected')}</Tag></Space>}>
          <Table<Row> size="small" rowKey="sku" pagination={false} locale={{ emptyText: <EmptyText /> }}
            dataSource={r.status === 'received' ? r.received : r.expected}
            columns={r.status === 'received'
              ? [{ title: t('sku'), dataIndex: 'sku' }, { title: t('quantity'), dataIndex: 'quantity' }, { title: t('condition'), render: (_, l) => (l.condition === 'damaged' ? t('damaged') : t('resellable')) }]
              : [
                  { title: t('sku'), dataIndex: 'sku' },
                  { title: t('expectedQty'), dataIndex: 'quantity' },
                  {
                    title: t('quantity'),
                    render: (_, l) => (
                      <InputNumber min={0} max={l.quantity} precision={0} aria-label={`${t('quantity')} ${l.sku}`} data-testid={`rq-${r.rmaId}-${l.sku}`}
                        value={counts[`${r.rmaId}:${l.sku}`]?.quantity ?? l.quantity}
                        onChange={(v) => setCounts((c) => ({ ...c, [`${r.rmaId}:${l.sku}`]: { condition: c[`${r.rmaId}:${l.sku}`]?.condition ?? 'resellable', quantity: Number(v ?? 0) } }))} />
                    ),
                  },
                  {
                    title: t('condition'),
                    render: (_, l) => (
                      <Select aria-label={`${t('condition')} ${l.sku}`} data-testid={`rc-${r.rmaId}-${l.sku}`} style={{ width: 120 }}
                        value={counts[`${r.rmaId}:${l.sku}`]?.condition ?? 'resellable'}
                        onChange={(v: Condition) => setCounts((c) => ({ ...c, [`${r.rmaId}:${l.sku}`]: { quantity: c[`${r.rmaId}:${l.sku}`]?.quantity ?? l.quantity, condition: v } }))}
                        options={[{ value: 'resellable', label: t('resellable') }, { value: 'damaged', label: t('damaged') }]} />
                    ),
                  },
                ]} />
          {r.status === 'requested' && may && (
            <Button type="primary" style={{ marginTop: 8 }} data-testid={`receive-${r.rmaId}`} loading={receive.isPending} onClick={() => receive.mutate(r)}>{t('receiveReturn')}</Button>
          )}
        </Card>
      ))}
    </Card>
  );
}
