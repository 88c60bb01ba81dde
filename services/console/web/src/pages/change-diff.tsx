import type { AddressView, OrderChangeDiff } from '@flowline/contracts';
import { Table, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useI18n, type UiKey } from '../i18n';

interface DiffRow {
  key: string;
  what: UiKey;
  subject: ReactNode;
  before: ReactNode;
  after: ReactNode;
}

/** An address as the approver reads it: the region and postcode in clear, the rest as approval publishes it (masked). */
export function addressText(a: AddressView): string {
  return [`${a.province}${a.city}${a.district}`, a.streetMasked, a.postalCode, a.recipientMasked, a.phoneMasked].filter((x) => x && x.trim()).join(' ');
}

/**
 * A change request's diff (approval's `change.diff`) as a table an approver decides on: lines
 * added / removed / quantity changed, the address before -> after, the carrier service, the
 * invoice, the totals and the price difference, money in yuan from integer fen. The street,
 * recipient and phone stay masked: approval keeps the clear values out of every view and hands
 * them to order-intake only once the change is approved (ADR 0016); no API reveals them here.
 */
export function ChangeDiffTable({ diff, titles }: { diff: OrderChangeDiff; titles: Record<string, string> }) {
  const { t, money } = useI18n();
  const currency = diff.totals.after.currency || diff.totals.before.currency || 'CNY';
  const title = (lineId: string, sku: string) => titles[lineId] ?? sku;
  const rows: DiffRow[] = [
    ...diff.lines.added.map((l) => ({
      key: `add-${l.lineId}`, what: 'lineAdded' as const, subject: `${l.title}（${l.sku}）`, before: '—',
      after: `× ${l.quantity} · ${money(l.unitPrice, currency)}`,
    })),
    ...diff.lines.removed.map((l) => ({
      key: `remove-${l.lineId}`, what: 'lineRemoved' as const, subject: `${l.title}（${l.sku}）`, before: `× ${l.quantity} · ${money(l.unitPrice, currency)}`, after: '—',
    })),
    ...diff.lines.changed.map((l) => ({
      key: `qty-${l.lineId}`, what: 'quantityChanged' as const, subject: `${title(l.lineId, l.sku)}（${l.sku}）`, before: `× ${l.before}`, after: `× ${l.after}`,
    })),
  ];
  if (diff.shippingAddress) {
    rows.push({ key: 'address', what: 'shippingAddressChange', subject: '', before: addressText(diff.shippingAddress.before), after: <span data-testid="diff-address-after">{addressText(diff.shippingAddress.after)}</span> });
  }
  if (diff.shippingMethod) rows.push({ key: 'method', what: 'shippingMethodChange', subject: '', before: diff.shippingMethod.before ?? '—', after: diff.shippingMethod.after });
  if (diff.invoice) {
    const inv = diff.invoice.after;
    rows.push({ key: 'invoice', what: 'invoiceChange', subject: '', before: '—', after: [t(inv.type === 'company' ? 'companyInvoice' : 'personalInvoice'), inv.titleMasked, inv.taxId].filter(Boolean).join(' · ') });
  }
  rows.push({ key: 'total', what: 'grandTotal', subject: '', before: money(diff.totals.before.grandTotal, currency), after: money(diff.totals.after.grandTotal, currency) });
  const d = diff.priceDifference;
  return (
    <>
      <div data-testid="change-diff">
      <Table<DiffRow> size="small" rowKey="key" pagination={false} dataSource={rows}
        columns={[
          { title: t('changeItem'), render: (_, r) => t(r.what) },
          { title: t('title'), dataIndex: 'subject' },
          { title: t('before'), dataIndex: 'before' },
          { title: t('after'), dataIndex: 'after' },
        ]} />
      </div>
      <Typography.Paragraph style={{ marginTop: 8, marginBottom: 0 }}>
        {t('priceDifference')}：
        <Typography.Text strong data-testid="diff-price-difference" data-fen={d}>
          {d === 0 ? t('noPriceChange') : `${d > 0 ? '+' : '−'}${money(Math.abs(d), currency)}（${t(d > 0 ? 'dueFromCustomer' : 'refundToCustomer')}）`}
        </Typography.Text>
      </Typography.Paragraph>
      {diff.note && <Typography.Paragraph style={{ marginBottom: 0 }}>{t('changeNote')}：{diff.note}</Typography.Paragraph>}
      {diff.shippingAddress && <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>{t('addressMaskedHint')}</Typography.Paragraph>}
    </>
  );
}
