/**
 * Carrier choice as data (rules/carrier-rules.yaml): first matching rule wins, every decision
 * names its rule and the rule set's version. Pure: the loader parses and validates the file.
 */
export interface CarrierRuleSet {
  version: string;
  /** Carrier when no rule matches. */
  default: string;
  rules: CarrierRule[];
  /** First-parcel price in fen per carrier, `default` and per province. */
  costs: Record<string, { default: number; provinces?: Record<string, number> }>;
}

export interface CarrierRule {
  id: string;
  when: { provinces?: string[]; channels?: string[]; minAmount?: number; maxAmount?: number; designated?: boolean };
  /** A carrier code, or `designated` (the platform's choice). */
  carrier?: string;
  /** The cheapest of these carriers for the destination, by the cost table. */
  cheapestOf?: string[];
}

export interface CarrierChoiceInput {
  province?: string;
  channel?: string;
  /** Order amount in fen. */
  grandTotal?: number;
  designatedCarrier?: string;
}

export interface CarrierChoice {
  carrier: string;
  ruleId: string;
  ruleSetVersion: string;
}

function matches(w: CarrierRule['when'], i: CarrierChoiceInput): boolean {
  if (w.designated !== undefined && w.designated !== !!i.designatedCarrier) return false;
  if (w.provinces && (!i.province || !w.provinces.includes(i.province))) return false;
  if (w.channels && (!i.channel || !w.channels.includes(i.channel))) return false;
  if (w.minAmount !== undefined && (i.grandTotal === undefined || i.grandTotal < w.minAmount)) return false;
  if (w.maxAmount !== undefined && (i.grandTotal === undefined || i.grandTotal > w.maxAmount)) return false;
  return true;
}

export function costOf(rules: CarrierRuleSet, carrier: string, province: string | undefined): number {
  const c = rules.costs[carrier];
  if (!c) return Number.POSITIVE_INFINITY;
  return (province ? c.provinces?.[province] : undefined) ?? c.default;
}

export function chooseCarrier(rules: CarrierRuleSet, input: CarrierChoiceInput): CarrierChoice {
  for (const r of rules.rules) {
    if (!matches(r.when, input)) continue;
    if (r.carrier === 'designated' && input.designatedCarrier) return { carrier: input.designatedCarrier, ruleId: r.id, ruleSetVersion: rules.version };
    if (r.carrier && r.carrier !== 'designated') return { carrier: r.carrier, ruleId: r.id, ruleSetVersion: rules.version };
    if (r.cheapestOf?.length) {
      // Ties go to the carrier listed first.
      const best = r.cheapestOf.reduce((a, b) => (costOf(rules, b, input.province) < costOf(rules, a, input.province) ? b : a));
      return { carrier: best, ruleId: r.id, ruleSetVersion: rules.version };
    }
  }
  return { carrier: rules.default, ruleId: 'default', ruleSetVersion: rules.version };
}
