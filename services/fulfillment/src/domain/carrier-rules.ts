import { DomainError } from '@flowline/domain';

/**
 * Carrier choice as data (rules/carrier-rules.yaml): first matching rule wins, every decision
 * names its rule and the rule set's version. Pure: the loader parses and validates the file.
 */
export interface CarrierRuleSet {
  version: string;
  /** Carrier when no rule matches. */
  default: string;
  rules: CarrierRule[];
  /** First-parcel price in fen per carrier, `default` and per province; `perKg`: fen for each started kilogram past the first. */
  costs: Record<string, { default: number; provinces?: Record<string, number>; perKg?: number }>;
}

export interface CarrierRule {
  id: string;
  when: { provinces?: string[]; channels?: string[]; minAmount?: number; maxAmount?: number; designated?: boolean; minWeightGrams?: number; maxWeightGrams?: number };
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
  /** Parcel weight in grams (line weights, else the per-SKU defaults). */
  weightGrams?: number;
}

export interface CarrierChoice {
  carrier: string;
  ruleId: string;
  ruleSetVersion: string;
  /** The weight the choice was made with (grams), when known. */
  weightGrams?: number;
  /** The carrier came from the platform (the order's own or the channel's designation). */
  designated?: boolean;
}

function matches(w: CarrierRule['when'], i: CarrierChoiceInput): boolean {
  if (w.designated !== undefined && w.designated !== !!i.designatedCarrier) return false;
  if (w.provinces && (!i.province || !w.provinces.includes(i.province))) return false;
  if (w.channels && (!i.channel || !w.channels.includes(i.channel))) return false;
  if (w.minAmount !== undefined && (i.grandTotal === undefined || i.grandTotal < w.minAmount)) return false;
  if (w.maxAmount !== undefined && (i.grandTotal === undefined || i.grandTotal > w.maxAmount)) return false;
  if (w.minWeightGrams !== undefined && (i.weightGrams === undefined || i.weightGrams < w.minWeightGrams)) return false;
  if (w.maxWeightGrams !== undefined && (i.weightGrams === undefined || i.weightGrams > w.maxWeightGrams)) return false;
  return true;
}

/** Price of a parcel in fen: the first kilogram (per province), plus `perKg` for each further started kilogram. */
export function costOf(rules: CarrierRuleSet, carrier: string, province: string | undefined, weightGrams = 0): number {
  const c = rules.costs[carrier];
  if (!c) return Number.POSITIVE_INFINITY;
  const first = (province ? c.provinces?.[province] : undefined) ?? c.default;
  const extraKg = Math.max(0, Math.ceil(weightGrams / 1000) - 1);
  return first + extraKg * (c.perKg ?? 0);
}

/**
 * The carrier of a parcel by the rules. A designation is the order's own (`designatedCarrier`, which
 * the channel sets from its delivery method: JD 配送方式 京东配送 / 京配 -> `JD`, a Tmall 指定快递);
 * a channel never designates for all its orders: a JD order the seller ships itself (商家自配送)
 * names no carrier and is chosen by the rules like any other.
 */
export function chooseCarrier(rules: CarrierRuleSet, given: CarrierChoiceInput): CarrierChoice {
  const { designatedCarrier, ...rest } = given;
  const input: CarrierChoiceInput = { ...rest, ...(designatedCarrier ? { designatedCarrier } : {}) };
  const extra = { ...(input.weightGrams !== undefined ? { weightGrams: input.weightGrams } : {}) };
  for (const r of rules.rules) {
    if (!matches(r.when, input)) continue;
    if (r.carrier === 'designated' && input.designatedCarrier) return { carrier: input.designatedCarrier, ruleId: r.id, ruleSetVersion: rules.version, ...extra, designated: true };
    if (r.carrier && r.carrier !== 'designated') return { carrier: r.carrier, ruleId: r.id, ruleSetVersion: rules.version, ...extra };
    if (r.cheapestOf?.length) {
      // Ties go to the carrier listed first.
      const best = r.cheapestOf.reduce((a, b) => (costOf(rules, b, input.province, input.weightGrams) < costOf(rules, a, input.province, input.weightGrams) ? b : a));
      return { carrier: best, ruleId: r.id, ruleSetVersion: rules.version, ...extra };
    }
  }
  return { carrier: rules.default, ruleId: 'default', ruleSetVersion: rules.version, ...extra };
}

/**
 * The carrier whose waybill a parcel is packed with (the warehouse's pack through REST / gRPC, the
 * connector asked for the e-waybill). A platform-designated choice (`designated`) wins over
 * everything else: the warehouse may not pack it with another carrier (`CARRIER_DESIGNATED`), and
 * when no connector here prints that carrier's waybills the pack is refused
 * (`CARRIER_NOT_CONFIGURED`) instead of silently printing the default carrier's, unless the
 * warehouse brings the designated carrier's waybill number itself (printed in the platform's own
 * system). Otherwise: the warehouse's carrier, else the rules' choice if configured here, else the default.
 */
export function waybillCarrierOf(
  choice: CarrierChoice | null | undefined,
  o: { requested?: string; waybillGiven: boolean; configured: readonly string[]; defaultCarrier: string },
): string {
  if (choice?.designated) {
    if (o.requested && o.requested !== choice.carrier) {
      throw new DomainError('CARRIER_DESIGNATED', `the platform designated ${choice.carrier} for this order: it cannot be packed with ${o.requested}`, { field: 'carrier', carrier: o.requested, designated: choice.carrier }, 'invalid');
    }
    if (!o.waybillGiven && !o.configured.includes(choice.carrier)) {
      throw new DomainError(
        'CARRIER_NOT_CONFIGURED',
        `the platform designated ${choice.carrier}, which has no waybill connector here (configured: ${o.configured.join(', ') || 'none'}): print its waybill on the platform and pack with waybillNo`,
        { field: 'carrier', carrier: choice.carrier, designated: true },
        'invalid',
      );
    }
    return choice.carrier;
  }
  return o.requested ?? (choice && o.configured.includes(choice.carrier) ? choice.carrier : o.defaultCarrier);
}
