import type { Channel } from '@flowline/contracts';

/**
 * A mapping profile: how one export layout of one platform becomes canonical orders. Data, not code
 * (YAML under services/channel-gateway/profiles/, validated against PROFILE_SCHEMA); every imported
 * order records the profile id and version it was mapped with.
 *
 * A column reference is a header name or a list of names the platform has used for it; headers are
 * compared after normalizeHeader (spaces, bracket styles, case).
 */
export type ColumnRef = string | string[];

/** What a platform's order status means for the order flow. */
/** `group_forming` / `group_failed`: a group-buy (拼团) order whose group has not formed / failed: it does not enter the flow. */
/** `deposit_paid`: a presale (预售) order whose deposit (定金) is paid and balance (尾款) is due. */
/**
 * `on_hold`: the platform stopped the order for a review or a pending cancellation request (JD 锁定):
 * neither closed nor refunded; the order is put on hold for a person until the platform says more.
 */
export const PLATFORM_STATES = ['unpaid', 'paid', 'shipped', 'completed', 'closed', 'group_forming', 'group_failed', 'deposit_paid', 'on_hold'] as const;
export type PlatformState = (typeof PLATFORM_STATES)[number];

/** What a platform's after-sales (售后) status means. */
export const AFTER_SALES_STATES = ['none', 'refund_requested', 'refunded'] as const;
export type AfterSalesState = (typeof AFTER_SALES_STATES)[number];

export interface MappingProfile {
  id: string;
  version: number;
  channel: Channel;
  description: string;
  /** Money columns hold yuan text ("128.00") or integer fen. */
  moneyUnit: 'yuan' | 'fen';
  /** Shop id for every order when the file has no shop column. */
  defaultShopId?: string;
  order: {
    id: ColumnRef;
    status: ColumnRef;
    placedAt: ColumnRef;
    paidAt?: ColumnRef;
    shop?: ColumnRef;
    buyerNick?: ColumnRef;
    buyerId?: ColumnRef;
    recipient?: ColumnRef;
    phone?: ColumnRef;
    /** One-line address, split with the national region codes. */
    address?: ColumnRef;
    province?: ColumnRef;
    city?: ColumnRef;
    district?: ColumnRef;
    street?: ColumnRef;
    detail?: ColumnRef;
    buyerMessage?: ColumnRef;
    sellerRemark?: ColumnRef;
    trackingNo?: ColumnRef;
    carrier?: ColumnRef;
    afterSalesStatus?: ColumnRef;
    /** When the parcel left (Taobao 发货时间): with a tracking number, the sign that a closed order had shipped. */
    shippedAt?: ColumnRef;
    /**
     * The order's total units (Taobao 订单报表 宝贝总数量): the item lines must add up to it (items-file
     * layouts), so a missing item row is refused and a row repeated by a doubled export is told
     * apart from two identical sub-orders.
     */
    totalQuantity?: ColumnRef;
    /** Text the platform writes into the id column of summary rows (合计, 总计, Total ...). */
    summaryMarkers?: string[];
  };
  money: {
    /** What the buyer paid for the order (after every discount, with shipping). */
    paid: ColumnRef;
    shippingFee?: ColumnRef;
    platformDiscount?: ColumnRef;
    shopDiscount?: ColumnRef;
    refund?: ColumnRef;
    /**
     * Rows of one order are sub-orders, each with its own amounts (Douyin 订单应付金额, 运费, 平台优惠,
     * 商家优惠): rows that are distinct sub-orders (each its own line id) are summed per row, paid and
     * every shipping / discount column (an older export writing the order's amounts unchanged on
     * every row is read once: only that reading adds up). Rows that are not distinct sub-orders: one
     * paid amount is the order's, different ones are refused (map-orders subOrderAmounts / paidOfRows).
     */
    paidPerSubOrder?: boolean;
  };
  lines: {
    /**
     * `rows`: one row per line, rows of one order share the id (order fields may be on the first row only);
     * `items-file`: lines come from a second file joined on `join` (Taobao classic 宝贝报表);
     * `single`: the order row is its only line.
     */
    from: 'rows' | 'items-file' | 'single';
    join?: ColumnRef;
    lineId?: ColumnRef;
    sku: ColumnRef;
    title: ColumnRef;
    quantity: ColumnRef;
    /** Unit price before discounts; or `lineTotal` (quantity x price) when the file has only that. */
    unitPrice?: ColumnRef;
    lineTotal?: ColumnRef;
    /** Sub-order status column (Douyin, Taobao sub-orders): a line may be closed on its own. */
    status?: ColumnRef;
    /**
     * Product weight column (JD 商品重量, 重量): `weightUnit` kg or g (default g), `weightPer` one unit
     * (default) or the whole line. Empty or 0: unknown (fulfillment's per-SKU table weighs the line).
     */
    weight?: ColumnRef;
    weightUnit?: 'kg' | 'g';
    weightPer?: 'unit' | 'line';
  };
  /**
   * The carrier the platform designated for the order (JD 配送方式 京东配送, a Tmall 指定快递): the
   * column and its text -> fulfillment's carrier code. Text not listed (商家自配送, empty): none.
   */
  designatedCarrier?: { column: ColumnRef; values: Record<string, string> };
  /** Platform status text -> flow state. An unlisted status rejects the row (UNKNOWN_STATUS). */
  statuses: Record<string, PlatformState>;
  /** After-sales status text -> refund state (unlisted or empty: none). */
  afterSalesStatuses?: Record<string, AfterSalesState>;
  /**
   * Presale (预售) columns, optional in the file: a row with a deposit (定金) is a presale order
   * (deposit + balance = the amount due; balance due-by and ship date as platform times).
   */
  presale?: { deposit: ColumnRef; balance: ColumnRef; balanceDueBy: ColumnRef; shipNotBefore: ColumnRef };
  /** Cash on delivery (货到付款): a column whose text is one of `values` marks the order COD. */
  cod?: { column: ColumnRef; values: string[] };
}

const columnRef = { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] };

/** JSON Schema (draft 2020-12 subset, checked with Ajv) every profile file must satisfy. */
export const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'version', 'channel', 'description', 'moneyUnit', 'order', 'money', 'lines', 'statuses'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' },
    version: { type: 'integer', minimum: 1 },
    channel: { enum: ['taobao', 'tmall', 'jd', 'pinduoduo', 'douyin', 'web', 'offline', 'api'] },
    description: { type: 'string' },
    moneyUnit: { enum: ['yuan', 'fen'] },
    defaultShopId: { type: 'string', minLength: 1 },
    order: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'status', 'placedAt'],
      properties: {
        ...Object.fromEntries(
          ['id', 'status', 'placedAt', 'paidAt', 'shop', 'buyerNick', 'buyerId', 'recipient', 'phone', 'address', 'province', 'city', 'district', 'street', 'detail', 'buyerMessage', 'sellerRemark', 'trackingNo', 'carrier', 'afterSalesStatus', 'shippedAt', 'totalQuantity'].map((k) => [k, columnRef]),
        ),
        summaryMarkers: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
    money: {
      type: 'object',
      additionalProperties: false,
      required: ['paid'],
      properties: { ...Object.fromEntries(['paid', 'shippingFee', 'platformDiscount', 'shopDiscount', 'refund'].map((k) => [k, columnRef])), paidPerSubOrder: { type: 'boolean' } },
    },
    lines: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'sku', 'title', 'quantity'],
      properties: {
        from: { enum: ['rows', 'items-file', 'single'] },
        ...Object.fromEntries(['join', 'lineId', 'sku', 'title', 'quantity', 'unitPrice', 'lineTotal', 'status', 'weight'].map((k) => [k, columnRef])),
        weightUnit: { enum: ['kg', 'g'] },
        weightPer: { enum: ['unit', 'line'] },
      },
      anyOf: [{ required: ['unitPrice'] }, { required: ['lineTotal'] }],
    },
    statuses: { type: 'object', minProperties: 1, additionalProperties: { enum: [...PLATFORM_STATES] } },
    afterSalesStatuses: { type: 'object', additionalProperties: { enum: [...AFTER_SALES_STATES] } },
    presale: {
      type: 'object',
      additionalProperties: false,
      required: ['deposit', 'balance', 'balanceDueBy', 'shipNotBefore'],
      properties: Object.fromEntries(['deposit', 'balance', 'balanceDueBy', 'shipNotBefore'].map((k) => [k, columnRef])),
    },
    designatedCarrier: {
      type: 'object',
      additionalProperties: false,
      required: ['column', 'values'],
      properties: { column: columnRef, values: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{1,31}$' } } },
    },
    cod: {
      type: 'object',
      additionalProperties: false,
      required: ['column', 'values'],
      properties: { column: columnRef, values: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } },
    },
  },
} as const;
