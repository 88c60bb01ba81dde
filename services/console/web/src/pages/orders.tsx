import type { TrackingOrderPage, TrackingOrderView } from '@flowline/contracts';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, unwrapAs } from '../api';
import { EmptyText, ProblemAlert } from '../components';
import { CHANNELS, STAGES, useI18n } from '../i18n';
import { filtersFromUrl, filtersToUrl, placedRange, SEARCH_MODES, type OrderFilters, type SearchMode } from '../order-filters';
import { cardColour } from './board';

const SEARCH_MODE_LABEL = { auto: 'searchModeAuto', order: 'searchModeOrder', phoneTail: 'searchModePhoneTail', sku: 'searchModeSku' } as const;
const SEARCH_MODE_HINT = { auto: 'searchHint', order: 'searchHintOrder', phoneTail: 'searchHintPhoneTail', sku: 'searchHintSku' } as const;

/** What the search box means: 智能 (four digits or 尾号1234 = phone tail, else ids / customer / SKU), or one field. */
export type { SearchMode } from '../order-filters';

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

/**
 * Orders from tracking's read model: search (order id, channel order id, masked customer, phone tail,
 * SKU), channel, stage and placed-date filters, cursor paging. The search and filters live in the URL
 * (order-filters.ts): a reload or a shared link shows the same list; the board's "more not shown" link
 * opens it on one stage and channel (?stage=&channel=).
 */
export function OrdersPage() {
  const { t, pick, money, time } = useI18n();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromUrl(params, { channels: CHANNELS, stages: STAGES });
  const { mode } = filters;
  // The text being typed; committed to the URL (and the query) with Enter or the search button.
  const [text, setText] = useState(filters.q);
  useEffect(() => setText(filters.q), [filters.q]);
  // Each change builds on the last one asked for, not on what the current render saw: two changes
  // before the page renders again (the from and to days typed one after the other, a mode picked
  // then a search entered) would otherwise lose the first. Cleared once the URL has been rendered.
  const latest = useRef(filters);
  const pending = useRef<OrderFilters | null>(null);
  latest.current = filters;
  useEffect(() => {
    pending.current = null;
  }, [params]);
  const apply = (change: Partial<OrderFilters>) => {
    const next = { ...(pending.current ?? latest.current), ...change };
    for (const k of ['channel', 'stage', 'from', 'to'] as const) if (!next[k]) delete next[k];
    pending.current = next;
    setParams(filtersToUrl(next), { replace: true });
  };
  const search = searchParams(mode, filters.q);
  const range = placedRange(filters.from, filters.to);
  const { channel, stage } = filters;
  const list = useInfiniteQuery({
    queryKey: ['orders', search, channel, stage, range.from, range.to],
    enabled: search !== 'invalid',
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrapAs<TrackingOrderPage>(
        api.tracking.GET('/api/tracking/orders', {
          params: { query: { limit: 20, ...(search && search !== 'invalid' ? search : {}), ...(channel ? { channel } : {}), ...(stage ? { stage } : {}), ...range, ...(pageParam ? { cursor: pageParam } : {}) } as never },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('orders')}</Typography.Title>
      <Space wrap>
        <Space.Compact style={{ maxWidth: '100%' }}>
          <Select<SearchMode> aria-label={t('searchMode')} data-testid="order-search-mode" style={{ width: 120, flex: 'none' }} value={mode}
            onChange={(m) => apply({ mode: m, q: text })}
            options={SEARCH_MODES.map((m) => ({ value: m, label: t(SEARCH_MODE_LABEL[m]) }))} />
          <Input.Search aria-label={t('search')} data-testid="order-search" placeholder={t(SEARCH_MODE_HINT[mode])} allowClear value={text} onChange={(e) => setText(e.target.value)}
            onSearch={(v) => apply({ q: v })} style={{ width: 320, maxWidth: 'calc(100vw - 150px)' }} enterButton={t('search')}
            status={search === 'invalid' ? 'error' : undefined} />
        </Space.Compact>
        <Select aria-label={t('channel')} data-testid="order-channel" allowClear placeholder={t('channel')} style={{ width: 130 }} value={channel} onChange={(v?: string) => apply({ channel: v })} options={Object.entries(CHANNELS).map(([k, v]) => ({ value: k, label: pick(v) }))} />
        <Select aria-label={t('stage')} data-testid="order-stage" allowClear placeholder={t('stage')} style={{ width: 140 }} value={stage} onChange={(v?: string) => apply({ stage: v })} options={Object.entries(STAGES).map(([k, v]) => ({ value: k, label: pick(v) }))} />
        <Space.Compact>
          <Input type="date" aria-label={t('placedFrom')} title={t('placedFrom')} data-testid="order-from" style={{ width: 150 }} value={filters.from ?? ''} max={filters.to} onChange={(e) => apply({ from: e.target.value || undefined })} />
          <Input type="date" aria-label={t('placedTo')} title={t('placedTo')} data-testid="order-to" style={{ width: 150 }} value={filters.to ?? ''} min={filters.from} onChange={(e) => apply({ to: e.target.value || undefined })} />
        </Space.Compact>
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
