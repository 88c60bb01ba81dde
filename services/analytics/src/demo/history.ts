/**
 * The demo order history (issue #19), pure and seeded: six months of orders with weekly
 * seasonality, peak hours, a growing trend, 6.18 and 11.11 peaks, the Spring Festival dip, repeat
 * customers, SKUs bought together, a few unpaid orders and refunds. scripts/demo-history.ts writes
 * it through order-intake's REST API; the analytics tests check its shape and what it adds up to.
 */
import type { Channel, OrderLineInput, OrderSubmission } from '@flowline/contracts';

export interface HistoryOptions {
  seed: number;
  days: number;
  /** Mean orders per ordinary day before seasonality and trend. */
  perDay: number;
  /** Last day of the history (Beijing date, YYYY-MM-DD). */
  end: string;
}

export interface HistoryOrder {
  /** Position in the history, 1-based: the Idempotency-Key's suffix. */
  n: number;
  order: OrderSubmission;
  pay: boolean;
  /** Refunded in full after payment (before shipment). */
  refund: boolean;
}

export const DEFAULT_HISTORY: HistoryOptions = { seed: 19, days: 182, perDay: 12, end: '2025-11-24' };

/** mulberry32: a small seeded PRNG, so a seed gives the same history on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rnd: () => number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let u = rnd() * total;
  for (const [item, w] of items) {
    u -= w;
    if (u < 0) return item;
  }
  return items[items.length - 1][0];
}

const DAY = 86_400_000;
/** Monday .. Sunday. */
const WEEKDAY = [0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 1.3];
/** Orders per hour of the day (Beijing): morning, after lunch and the evening peak. */
const HOURS = [0.3, 0.15, 0.1, 0.05, 0.05, 0.1, 0.3, 0.6, 1, 1.4, 1.8, 1.7, 1.2, 1.3, 1.5, 1.4, 1.2, 1.1, 1.2, 1.6, 2.2, 2.5, 2.1, 1];
const CHANNELS: readonly (readonly [{ channel: Channel; shopId: string }, number])[] = [
  [{ channel: 'taobao', shopId: 'taobao-teahouse' }, 30],
  [{ channel: 'tmall', shopId: 'tmall-flagship' }, 20],
  [{ channel: 'jd', shopId: 'jd-self-run' }, 20],
  [{ channel: 'pinduoduo', shopId: 'pdd-snacks' }, 15],
  [{ channel: 'douyin', shopId: 'douyin-live' }, 15],
];
const PROVINCES: readonly (readonly [[string, string, string], number])[] = [
  [['广东省', '深圳市', '南山区'], 16],
  [['浙江省', '杭州市', '西湖区'], 14],
  [['江苏省', '南京市', '鼓楼区'], 11],
  [['上海市', '上海市', '浦东新区'], 10],
  [['北京市', '北京市', '海淀区'], 9],
  [['四川省', '成都市', '武侯区'], 8],
  [['山东省', '济南市', '历下区'], 7],
  [['福建省', '厦门市', '思明区'], 6],
  [['湖北省', '武汉市', '洪山区'], 6],
  [['河南省', '郑州市', '金水区'], 5],
];
/** What sells, with prices in fen and what it is bought with. */
const CATALOG: readonly (readonly [{ sku: string; title: string; price: number; category: string; with?: [string, number] }, number])[] = [
  [{ sku: 'TEA-LJ-250', title: '明前西湖龙井 250g 罐装', price: 12800, category: 'tea', with: ['CUP-CELADON', 0.35] }, 30],
  [{ sku: 'TEA-PUER-357', title: '云南普洱熟茶饼 357g', price: 26800, category: 'tea', with: ['POT-YIXING-200', 0.12] }, 18],
  [{ sku: 'TEA-TIEGUANYIN-250', title: '安溪铁观音 250g', price: 9800, category: 'tea', with: ['CUP-CELADON', 0.2] }, 16],
  [{ sku: 'TEA-JASMINE-100', title: '茉莉花茶 100g', price: 3900, category: 'tea' }, 20],
  [{ sku: 'CUP-CELADON', title: '龙泉青瓷品茗杯', price: 5900, category: 'teaware' }, 8],
  [{ sku: 'POT-YIXING-200', title: '宜兴紫砂壶 200ml', price: 39900, category: 'teaware', with: ['CUP-CELADON', 0.5] }, 6],
];
const TITLES = new Map(CATALOG.map(([c]) => [c.sku, c]));

/** Beijing-date string of day i of the history. */
const dayOf = (end: string, days: number, i: number) => new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1 - i) * DAY).toISOString().slice(0, 10);

/** Spring Festival (lunar new year) days of the years a six-month history can touch, and the promotion days. */
const SPRING_FESTIVAL = new Set(['2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23']);
function promotion(day: string): number {
  const md = day.slice(5);
  if (md === '11-11') return 4;
  if (md === '11-10' || md === '11-12') return 1.6;
  if (md === '06-18') return 2.5;
  if (md === '06-17') return 1.4;
  if (SPRING_FESTIVAL.has(day)) return 0.3;
  return 1;
}

function channelOrderId(channel: Channel, seed: number, n: number): string {
  const s = String(seed % 100).padStart(2, '0');
  const num = String(n).padStart(7, '0');
  switch (channel) {
    case 'taobao':
    case 'tmall':
      return `49${s}${'0'.repeat(8)}${num}`; // 19 digits like Taobao's tid
    case 'jd':
      return `39${s}0${num}`; // 12 digits
    case 'pinduoduo':
      return `hist${s}-${num}`;
    default:
      return `69${s}${'0'.repeat(8)}${num}`;
  }
}

/** First day of the history (Beijing date). */
export const historyStart = (options: HistoryOptions) => dayOf(options.end, options.days, 0);

/** The history, in placing order. Pure: the same options give the same orders. */
export function generateHistory(options: HistoryOptions = DEFAULT_HISTORY): HistoryOrder[] {
  const rnd = prng(options.seed);
  const out: HistoryOrder[] = [];
  for (let i = 0; i < options.days; i++) {
    const day = dayOf(options.end, options.days, i);
    const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
    const trend = 1 + (0.3 * i) / options.days;
    const expected = options.perDay * WEEKDAY[weekday] * trend * promotion(day) * (0.85 + 0.3 * rnd());
    const count = Math.max(0, Math.round(expected));
    const times = Array.from({ length: count }, () => {
      const hour = pick(rnd, HOURS.map((w, h) => [h, w] as const));
      return hour * 3600 + Math.floor(rnd() * 3600);
    }).sort((a, b) => a - b);
    for (const secs of times) {
      const n = out.length + 1;
      const { channel, shopId } = pick(rnd, CHANNELS);
      // Skewed towards low ids: some customers come back again and again.
      const customer = Math.floor(400 * rnd() ** 2.2);
      const [province, city, district] = pick(rnd, PROVINCES);
      const first = pick(rnd, CATALOG);
      const skus = [first.sku];
      if (first.with && rnd() < first.with[1]) skus.push(first.with[0]);
      const lines: OrderLineInput[] = skus.map((sku, k) => {
        const c = TITLES.get(sku) as { title: string; price: number; category: string };
        const quantity = c.category === 'teaware' && sku === 'CUP-CELADON' ? pick(rnd, [[2, 3], [4, 2], [6, 1]] as const) : pick(rnd, [[1, 6], [2, 3], [3, 1]] as const);
        return { lineId: String(k + 1), sku, title: c.title, quantity, unitPrice: c.price, lineDiscount: 0, category: c.category };
      });
      const hh = String(Math.floor(secs / 3600)).padStart(2, '0');
      const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, '0');
      const ss = String(secs % 60).padStart(2, '0');
      const phone = `139${String(customer).padStart(4, '0')}${String(Math.floor(rnd() * 10_000)).padStart(4, '0')}`;
      const paid = rnd() >= 0.05;
      out.push({
        n,
        pay: paid,
        refund: paid && rnd() < 0.03,
        order: {
          channel,
          channelOrderId: channelOrderId(channel, options.seed, n),
          shopId,
          customer: { channelCustomerId: `${channel}-buyer-${customer}`, nickname: `茶友${customer}`, name: `顾客${customer}`, phone, tags: [] },
          shippingAddress: { province, city, district, street: '人民路', detail: `${(customer % 300) + 1} 号`, recipient: `顾客${customer}`, phone },
          lines,
          shippingFee: 0,
          orderDiscount: 0,
          currency: 'CNY',
          tags: ['demo-history'],
          attachments: [],
          placedAt: new Date(`${day}T${hh}:${mm}:${ss}+08:00`).toISOString(),
        },
      });
    }
  }
  return out;
}

/** Units per SKU the history sells (what the stock receipts must cover). */
export function unitsPerSku(history: HistoryOrder[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const h of history) if (h.pay) for (const l of h.order.lines) m.set(l.sku, (m.get(l.sku) ?? 0) + l.quantity);
  return m;
}
