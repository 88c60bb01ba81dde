import type { OrderStage, RuleDecisionKind } from '@flowline/contracts';

/** A text in the two languages the timeline and board speak. */
export interface Bilingual {
  zh: string;
  en: string;
}

export const STAGE_LABELS: Record<OrderStage, Bilingual> = {
  placed: { zh: '下单', en: 'Placed' },
  paid: { zh: '支付确认', en: 'Paid' },
  stock_reserved: { zh: '库存锁定', en: 'Stock reserved' },
  awaiting_approval: { zh: '审批中', en: 'Awaiting approval' },
  ready_to_ship: { zh: '待发货', en: 'Ready to ship' },
  packed: { zh: '打包出库', en: 'Packed' },
  shipped: { zh: '已发货', en: 'Shipped' },
  delivered: { zh: '已签收', en: 'Delivered' },
  archived: { zh: '售后归档', en: 'Archived' },
  cancelled: { zh: '已取消', en: 'Cancelled' },
  refunded: { zh: '已退款', en: 'Refunded' },
};

export const ROLE_LABELS: Record<string, Bilingual> = {
  customer_service: { zh: '客服', en: 'Customer service' },
  warehouse: { zh: '仓库', en: 'Warehouse' },
  finance: { zh: '财务', en: 'Finance' },
  sales: { zh: '销售', en: 'Sales' },
  designer: { zh: '设计', en: 'Designer' },
  cost_accountant: { zh: '成本核算', en: 'Cost accountant' },
  general_manager: { zh: '总经理', en: 'General manager' },
  customer: { zh: '顾客', en: 'Customer' },
  system: { zh: '系统', en: 'System' },
};

export const CHANNEL_LABELS: Record<string, Bilingual> = {
  taobao: { zh: '淘宝', en: 'Taobao' },
  tmall: { zh: '天猫', en: 'Tmall' },
  jd: { zh: '京东', en: 'JD' },
  pinduoduo: { zh: '拼多多', en: 'Pinduoduo' },
  douyin: { zh: '抖店', en: 'Douyin shop' },
  web: { zh: '官网商城', en: 'Web store' },
  offline: { zh: '门店', en: 'Offline store' },
  api: { zh: '开放接口', en: 'API' },
};

export const DECISION_LABELS: Record<RuleDecisionKind, Bilingual> = {
  require_approval: { zh: '需要人工审批', en: 'approval required' },
  require_qc: { zh: '需要质检', en: 'quality check required' },
  free_shipping: { zh: '包邮', en: 'free shipping' },
  hold_for_review: { zh: '挂起待人工审核', en: 'hold for review' },
  priority: { zh: '优先处理', en: 'priority handling' },
  ready_to_ship: { zh: '自动审单通过', en: 'automatic audit passed' },
};

export const RELEASE_REASON_LABELS: Record<string, Bilingual> = {
  cancelled: { zh: '订单取消', en: 'order cancelled' },
  refunded: { zh: '订单退款', en: 'order refunded' },
  expired: { zh: '预占超时', en: 'reservation expired' },
};

/** A label for a code, falling back to the code itself in both languages. */
/** Steps and chains of the default approval chain set (services/approval/chains); another id shows as itself. */
export const APPROVAL_STEP_LABELS: Record<string, Bilingual> = {
  sales_review: { zh: '销售审核', en: 'sales review' },
  design_review: { zh: '设计审核', en: 'design review' },
  cost_review: { zh: '成本核算', en: 'cost review' },
  gm_approval: { zh: '总经理审批', en: 'general manager approval' },
  cs_review: { zh: '客服审核', en: 'customer service review' },
  warehouse_review: { zh: '仓库审核', en: 'warehouse review' },
  finance_review: { zh: '财务审核', en: 'finance review' },
};

export const APPROVAL_CHAIN_LABELS: Record<string, Bilingual> = {
  'custom-order': { zh: '定制订单审批', en: 'custom order approval' },
  'large-order': { zh: '大额订单审批', en: 'large order approval' },
  'order-change': { zh: '订单变更审批', en: 'order change approval' },
};

/** The zone people read times in (Beijing); the events keep ISO UTC. */
export const DISPLAY_TIME_ZONE = 'Asia/Shanghai';
const DISPLAY_TIME = new Intl.DateTimeFormat('en-CA', { timeZone: DISPLAY_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** An ISO time as Beijing wall-clock time, `2026-12-08 14:30` (an unreadable value shows as given). */
export function beijingTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const p = Object.fromEntries(DISPLAY_TIME.formatToParts(t).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

export function labelOf(table: Record<string, Bilingual>, code: string): Bilingual {
  return table[code] ?? { zh: code, en: code };
}

/** Formats integer minor units: 1999 CNY -> ¥19.99. */
export function formatMoney(amount: number, currency: string): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const value = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return currency === 'CNY' ? `${sign}¥${value}` : `${sign}${currency} ${value}`;
}
