import type { Channel } from '@flowline/contracts';
import type { ChannelOrderDraft } from '../import/map-orders';

/**
 * Gift rules (赠品策略) as data: YAML, schema-validated (GIFT_RULES_SCHEMA), versioned as a whole.
 * At intake, each rule whose campaign covers the order's placement time, whose channel matches and
 * whose condition holds (one of the SKUs bought, goods amount at least the threshold) adds a
 * zero-price gift line. The gift is an ordinary line of the order, so inventory reserves it with the
 * order; the order carries the tag `gift:<rule id>@v<rule-set version>` for each rule applied and
 * channel-gateway keeps the lines (with the rule id in the line id) in its channel_orders draft.
 */
export interface GiftRule {
  id: string;
  /** Channels the rule applies to; all when absent. */
  channels?: Channel[];
  /** Campaign: the order's placedAt must be in [from, until). ISO times with an offset. */
  from: string;
  until: string;
  when: {
    /** One of these SKUs bought. */
    skus?: string[];
    /** Goods amount (sum of quantity x unit price, before discounts) at least this, in yuan ("199.00"). */
    minAmount?: string;
  };
  gift: { sku: string; title: string; quantity: number };
}

export interface GiftRuleSet {
  version: number;
  rules: GiftRule[];
}

export const GIFT_RULES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'rules'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'from', 'until', 'when', 'gift'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,29}$' },
          channels: { type: 'array', minItems: 1, items: { enum: ['taobao', 'tmall', 'jd', 'pinduoduo', 'douyin', 'web', 'offline', 'api'] } },
          from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?(Z|[+-]\\d{2}:\\d{2})$' },
          until: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?(Z|[+-]\\d{2}:\\d{2})$' },
          when: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              skus: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
              minAmount: { type: 'string', pattern: '^\\d{1,9}(\\.\\d{1,2})?$' },
            },
          },
          gift: {
            type: 'object',
            additionalProperties: false,
            required: ['sku', 'title', 'quantity'],
            properties: {
              sku: { type: 'string', minLength: 1, maxLength: 64 },
              title: { type: 'string', minLength: 1, maxLength: 200 },
              quantity: { type: 'integer', minimum: 1, maximum: 100 },
            },
          },
        },
      },
    },
  },
} as const;

/** "199.00" -> 19900 without floats (the schema already checked the form). */
function yuanToFenExact(s: string): number {
  const [whole, frac = ''] = s.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/** Checks what the schema cannot: campaign end after its start, rule ids unique. Returns the problems. */
export function giftRuleSetProblems(set: GiftRuleSet): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  set.rules.forEach((r, i) => {
    if (seen.has(r.id)) problems.push(`/rules/${i}/id duplicate rule id ${r.id}`);
    seen.add(r.id);
    if (!(Date.parse(r.until) > Date.parse(r.from))) problems.push(`/rules/${i}/until must be after from`);
  });
  return problems;
}

export interface AppliedGift {
  ruleId: string;
  ruleSetVersion: number;
  lineId: string;
}

/**
 * The draft with the gift lines of every rule that applies (zero unit price, so the money is
 * unchanged) and which rules they came from. Pure and deterministic: the same draft and rule set
 * give the same lines, so a re-run places the same order. A gift SKU already on the order as a gift
 * of the same rule is not added twice.
 */
export function applyGiftRules(d: ChannelOrderDraft, set: GiftRuleSet | null): { draft: ChannelOrderDraft; applied: AppliedGift[] } {
  if (!set) return { draft: d, applied: [] };
  const placed = Date.parse(d.placedAt);
  const goods = d.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  const applied: AppliedGift[] = [];
  const lines = [...d.lines];
  for (const r of set.rules) {
    if (r.channels && !r.channels.includes(d.channel)) continue;
    if (!(placed >= Date.parse(r.from) && placed < Date.parse(r.until))) continue;
    if (r.when.skus && !d.lines.some((l) => l.unitPrice > 0 && r.when.skus?.includes(l.sku))) continue;
    if (r.when.minAmount !== undefined && goods < yuanToFenExact(r.when.minAmount)) continue;
    const lineId = `gift-${r.id}`;
    if (lines.some((l) => l.lineId === lineId)) continue;
    lines.push({ lineId, sku: r.gift.sku, title: r.gift.title, quantity: r.gift.quantity, unitPrice: 0 });
    applied.push({ ruleId: r.id, ruleSetVersion: set.version, lineId });
  }
  return { draft: applied.length ? { ...d, lines } : d, applied };
}

/** The order tag recording a rule applied (order-intake tags are at most 50 characters). */
export const giftTag = (g: AppliedGift): string => `gift:${g.ruleId}@v${g.ruleSetVersion}`;
