import type { TrackingOrderPage, TrackingOrderView } from '@flowline/contracts';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrapAs } from '../api';
import { EmptyText, ProblemAlert } from '../components';
import { CHANNELS, STAGES, useI18n } from '../i18n';
import { cardColour } from './board';

/** Orders from tracking's read model: search (order id, channel order id, masked customer) and cursor paging. */
export function OrdersPage() {
  const { t, pick, money, time } = useI18n();
  const [q, setQ] = useState<string>();
  const [channel, setChannel] = useState<string>();
  const [stage, setStage] = useState<string>();
  const list = useInfiniteQuery({
    queryKey: ['orders', q, channel, stage],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrapAs<TrackingOrderPage>(
        api.tracking.GET('/api/tracking/orders', {
          params: { query: { limit: 20, ...(q ? { q } : {}), ...(channel ? { channel } : {}), ...(stage ? { stage } : {}), ...(pageParam ? { cursor: pageParam } : {}) } as never },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('orders')}</Typography.Title>
      <Space wrap>
        <Input.Search aria-label={t('search')} data-testid="order-search" placeholder={t('searchHint')} allowClear onSearch={(v) => setQ(v.trim() || undefined)} style={{ width: 320 }} enterButton={t('search')} />
        <Select aria-label={t('channel')} allowClear placeholder={t('channel')} style={{ width: 130 }} value={channel} onChange={setChannel} options={Object.entries(CHANNELS).map(([k, v]) => ({ value: k, label: pick(v) }))} />
        <Select aria-label={t('stage')} allowClear placeholder={t('stage')} style={{ width: 140 }} value={stage} onChange={setStage} options={Object.entries(STAGES).map(([k, v]) => ({ value: k, label: pick(v) }))} />
      </Space>
      <ProblemAlert error={list.error} />
      <Table<TrackingOrderView>
        size="small"
        rowKey="orderId"
        loading={list.isLoading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: <EmptyText /> }}
        columns={[
          { title: t('channelOrderId'), render: (_, o) => <Link to={`/orders/${o.orderId}`} data-testid={`order-link-${o.orderId}`}>{o.channelOrderId}</Link> },
          { title: t('channel'), render: (_, o) => pick(CHANNELS[o.channel] ?? { zh: o.channel, en: o.channel }) },
          { title: t('shop'), dataIndex: 'shopId' },
          { title: t('customer'), render: (_, o) => `${o.customerMasked ?? ''} ${o.customerPhoneMasked ?? ''}` },
          { title: t('stage'), render: (_, o) => pick(o.stageLabel) },
          { title: t('colour'), render: (_, o) => <Tag>{t(cardColour(o) === 'hold' ? 'onHold' : cardColour(o))}</Tag> },
          { title: t('total'), render: (_, o) => money(o.grandTotal, o.currency) },
          { title: t('placedAt'), render: (_, o) => time(o.placedAt) },
        ]}
      />
      {list.hasNextPage && <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('more')}</Button>}
    </Space>
  );
}
