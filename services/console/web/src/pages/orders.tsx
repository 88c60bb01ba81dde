import type { TrackingOrderPage, TrackingOrderView } from '@flowline/contracts';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, unwrapAs } from '../api';
import { EmptyText, ProblemAlert } from '../components';
import { CHANNELS, STAGES, useI18n } from '../i18n';
import { cardColour } from './board';

const SEARCH_MODE_LABEL = { auto: 'searchModeAuto', order: 'searchModeOrder', phoneTail: 'searchModePhoneTail', sku: 'searchModeSku' } as const;
const SEARCH_MODE_HINT = { auto: 'searchHint', order: 'searchHintOrder', phoneTail: 'searchHintPhoneTail', sku: 'searchHintSku' } as const;

/** What the search box means: 智能 (four digits or 尾号1234 = phone tail, else ids / customer / SKU), or one field. */
export type SearchMode = 'auto' | 'order' | 'phoneTail' | 'sku';

/**
 * The tracking query for a search text in a mode. Phone tails are exactly four digits ("尾号1234",
 * "1234"); a text that is not one in the phone-tail mode gives `invalid` (tracking would answer 400).
 */
export function searchParams(mode: SearchMode, text: string): { q?: string; phoneTail?: string; sku?: string } | 'invalid' | undefined {
  const v = text.trim();
  if (!v) return undefined;
  const tail = /^(?:尾号)?\s*(\d{4})$/.exec(v)?.[1];
  switch (mode) {
    case 'phoneTail':
      return tail ? { phoneTail: tail } : 'invalid';
    case 'sku':
      return { sku: v };
    case 'order':
      return { q: v };
    case 'auto':
      return tail ? { phoneTail: tail } : { q: v };
  }
}

/** Orders from tracking's read model: search (order id, channel order id, masked customer, phone tail, SKU) and cursor paging. */
export function OrdersPage() {
  const { t, pick, money, time } = useI18n();
  const [mode, setMode] = useState<SearchMode>('auto');
  const [text, setText] = useState('');
  const [search, setSearch] = useState<ReturnType<typeof searchParams>>();
  // The board's "more not shown" link opens this list on one stage and channel (?stage=&channel=).
  const [params] = useSearchParams();
  const fromUrl = (name: string, known: object) => {
    const v = params.get(name);
    return v && Object.hasOwn(known, v) ? v : undefined;
  };
  const [channel, setChannel] = useState<string | undefined>(() => fromUrl('channel', CHANNELS));
  const [stage, setStage] = useState<string | undefined>(() => fromUrl('stage', STAGES));
  const list = useInfiniteQuery({
    queryKey: ['orders', search, channel, stage],
    enabled: search !== 'invalid',
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrapAs<TrackingOrderPage>(
        api.tracking.GET('/api/tracking/orders', {
          params: { query: { limit: 20, ...(search && search !== 'invalid' ? search : {}), ...(channel ? { channel } : {}), ...(stage ? { stage } : {}), ...(pageParam ? { cursor: pageParam } : {}) } as never },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('orders')}</Typography.Title>
      <Space wrap>
        <Space.Compact>
          <Select<SearchMode> aria-label={t('searchMode')} data-testid="order-search-mode" style={{ width: 120 }} value={mode}
            onChange={(m) => { setMode(m); setSearch(searchParams(m, text)); }}
            options={(['auto', 'order', 'phoneTail', 'sku'] as const).map((m) => ({ value: m, label: t(SEARCH_MODE_LABEL[m]) }))} />
          <Input.Search aria-label={t('search')} data-testid="order-search" placeholder={t(SEARCH_MODE_HINT[mode])} allowClear value={text} onChange={(e) => setText(e.target.value)}
            onSearch={(v) => setSearch(searchParams(mode, v))} style={{ width: 320 }} enterButton={t('search')}
            status={search === 'invalid' ? 'error' : undefined} />
        </Space.Compact>
        <Select aria-label={t('channel')} allowClear placeholder={t('channel')} style={{ width: 130 }} value={channel} onChange={setChannel} options={Object.entries(CHANNELS).map(([k, v]) => ({ value: k, label: pick(v) }))} />
        <Select aria-label={t('stage')} allowClear placeholder={t('stage')} style={{ width: 140 }} value={stage} onChange={setStage} options={Object.entries(STAGES).map(([k, v]) => ({ value: k, label: pick(v) }))} />
      </Space>
      {search === 'invalid' && <Typography.Text type="danger" data-testid="order-search-invalid">{t('phoneTailInvalid')}</Typography.Text>}
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
