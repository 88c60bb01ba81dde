import { maskName, type Actor, type OrderStage, type PiiField } from '@flowline/contracts';
import { assertNever } from '@flowline/domain';
import {
  APPROVAL_CHAIN_LABELS,
  APPROVAL_STEP_LABELS,
  beijingTime,
  CHANNEL_LABELS,
  DECISION_LABELS,
  RELEASE_REASON_LABELS,
  ROLE_LABELS,
  STAGE_LABELS,
  formatMoney,
  labelOf,
  type Bilingual,
} from './labels';
import { contextOf, orderIdOf, type SourceContext, type TrackedEvent } from './tracked-event';

/** One line of an order's history, readable by a person in zh-CN and en: who did what, and why. */
export interface TimelineEntryRow {
  eventId: string;
  orderId: string;
  occurredAt: string;
  type: string;
  context: SourceContext;
  streamId: string;
  streamPosition: number;
  actorKind: string | null;
  actorId: string | null;
  actorRole: string | null;
  /** Display name; a customer's is masked. */
  actorName: string | null;
  whoZh: string;
  whoEn: string;
  whatZh: string;
  whatEn: string;
  whyZh: string | null;
  whyEn: string | null;
  /** Rule behind the step, when a rule decided it. */
  ruleId: string | null;
  ruleSetVersion: string | null;
  /** Content hash of the rule file, when the deciding service sent it. */
  ruleSetHash: string | null;
  /** Stage after this event (order events only). */
  stageAfter: OrderStage | null;
  /** The event as received: as-of queries fold it again. */
  envelope: TrackedEvent;
}

/** What the timeline needs from the order's summary before the event (order events only; deterministic there). */
export interface TimelineContext {
  currency?: string;
  lastRule?: { ruleId: string; ruleSetVersion: string; decision: string } | null;
  stageAfter?: OrderStage | null;
}

interface Rendered {
  what: Bilingual;
  why?: Bilingual | null;
  rule?: { ruleId: string; ruleSetVersion: string; ruleSetHash?: string } | null;
}

/** "who" for an actor: 客服 王芳 / Customer service Wang Fang; 系统（order-intake）/ System (order-intake). */
export function renderWho(actor: Actor | undefined): Bilingual {
  if (!actor) return { zh: '系统', en: 'System' };
  switch (actor.kind) {
    case 'user': {
      const role = actor.role ? labelOf(ROLE_LABELS, actor.role) : { zh: '员工', en: 'Staff' };
      const name = actor.name ?? actor.id;
      return { zh: `${role.zh} ${name}`, en: `${role.en} ${name}` };
    }
    case 'customer': {
      const name = maskName(actor.name);
      return name ? { zh: `顾客 ${name}`, en: `Customer ${name}` } : { zh: '顾客', en: 'Customer' };
    }
    case 'service':
      return { zh: `系统（${actor.name ?? actor.id}）`, en: `System (${actor.name ?? actor.id})` };
    case 'channel': {
      const ch = labelOf(CHANNEL_LABELS, actor.id);
      return { zh: `${ch.zh}平台`, en: `${ch.en} platform` };
    }
    default:
      return assertNever(actor.kind, 'actor kind');
  }
}

function ruleWhy(ruleId: string, ruleSetVersion: string, decision?: string): Bilingual {
  const d = decision ? labelOf(DECISION_LABELS, decision) : undefined;
  return {
    zh: `规则 ${ruleId}（规则集版本 ${ruleSetVersion}）${d ? `判定：${d.zh}` : ''}`,
    en: `rule ${ruleId} (rule set ${ruleSetVersion})${d ? ` decided: ${d.en}` : ''}`,
  };
}

const NOTIFICATION_CHANNEL_LABELS: Record<string, Bilingual> = {
  sms: { zh: '短信', en: 'SMS' },
  wechat_template: { zh: '微信公众号', en: 'WeChat' },
  wechat_subscribe: { zh: '微信小程序', en: 'WeChat mini program' },
  email: { zh: '邮件', en: 'e-mail' },
  dingtalk: { zh: '钉钉', en: 'DingTalk' },
  wecom: { zh: '企业微信', en: 'WeCom' },
  webhook: { zh: 'Webhook', en: 'webhook' },
};

const PII_FIELD_LABELS: Record<PiiField, Bilingual> = {
  'customer.name': { zh: '顾客姓名', en: 'customer name' },
  'customer.phone': { zh: '顾客电话', en: 'customer phone' },
  'shippingAddress.recipient': { zh: '收件人', en: 'recipient' },
  'shippingAddress.phone': { zh: '收件人电话', en: 'recipient phone' },
  'shippingAddress.street': { zh: '详细地址', en: 'street address' },
};

function reason(text: string | undefined): Bilingual | null {
  return text ? { zh: text, en: text } : null;
}

function allocations(list: { sku: string; warehouseId: string; quantity: number }[]): Bilingual {
  const parts = list.map((a) => `${a.sku}×${a.quantity}@${a.warehouseId}`).join(', ');
  return { zh: parts, en: parts };
}

function missing(list: { sku: string; requested: number; available: number }[]): Bilingual {
  return {
    zh: list.map((m) => `${m.sku} 需要 ${m.requested}，可用 ${m.available}`).join('；'),
    en: list.map((m) => `${m.sku} needs ${m.requested}, ${m.available} available`).join('; '),
  };
}

const FROM_RULE_ON_READY = new Set(['ready_to_ship', 'free_shipping', 'priority', 'require_qc', 'require_approval']);

function render(e: TrackedEvent, ctx: TimelineContext): Rendered | undefined {
  const currency = ctx.currency ?? 'CNY';
  switch (e.type) {
    // ---- orders.events.v1
    case 'OrderPlaced': {
      const d = e.data;
      const ch = labelOf(CHANNEL_LABELS, d.channel);
      const n = d.lines.reduce((s, l) => s + l.quantity, 0);
      const m = formatMoney(d.totals.grandTotal, d.totals.currency);
      return {
        what: { zh: `在${ch.zh}下单（${d.channelOrderId}），共 ${n} 件，应付 ${m}`, en: `Placed on ${ch.en} (${d.channelOrderId}): ${n} item(s), ${m} due` },
        why: d.buyerMessage ? { zh: `买家留言：${d.buyerMessage}`, en: `buyer message: ${d.buyerMessage}` } : null,
      };
    }
    case 'OrderPaid': {
      const m = formatMoney(e.data.amount, e.data.currency);
      // Which payment: a presale's deposit (定金) or balance (尾款), or a change's price difference (补差价).
      const part = e.data.presalePart === 'deposit' ? { zh: '定金', en: 'deposit ' } : e.data.presalePart === 'balance' ? { zh: '尾款', en: 'balance ' } : e.data.changeRequestId ? { zh: '补差价', en: 'change difference ' } : { zh: '', en: '' };
      return {
        what: { zh: `${part.zh}支付确认 ${m}`, en: `Payment of ${part.en}${m} confirmed` },
        why: e.data.paymentRef ? { zh: `支付流水号 ${e.data.paymentRef}`, en: `payment reference ${e.data.paymentRef}` } : null,
      };
    }
    case 'OrderStockReserved': {
      const a = allocations(e.data.allocations);
      return { what: { zh: `库存已锁定：${a.zh}`, en: `Stock reserved: ${a.en}` } };
    }
    case 'OrderStockShortage':
      return { what: { zh: '库存不足，订单转为异常', en: 'Stock shortage; the order is now an exception' }, why: missing(e.data.missing) };
    case 'OrderRuleDecided': {
      const d = labelOf(DECISION_LABELS, e.data.decision);
      return {
        what: { zh: `规则判定：${d.zh}`, en: `Rule decided: ${d.en}` },
        why: ruleWhy(e.data.ruleId, e.data.ruleSetVersion),
        rule: { ruleId: e.data.ruleId, ruleSetVersion: e.data.ruleSetVersion, ruleSetHash: e.data.ruleSetHash },
      };
    }
    case 'OrderApprovalRequired':
      return {
        what: { zh: `需要审批（审批流 ${e.data.chain}）`, en: `Approval required (chain ${e.data.chain})` },
        why: ruleWhy(e.data.ruleId, e.data.ruleSetVersion, 'require_approval'),
        rule: { ruleId: e.data.ruleId, ruleSetVersion: e.data.ruleSetVersion, ruleSetHash: e.data.ruleSetHash },
      };
    case 'OrderApproved':
      return { what: { zh: `审批通过（审批流 ${e.data.chain}）`, en: `Approved (chain ${e.data.chain})` } };
    case 'OrderApprovalRejected':
      return {
        what: { zh: `审批被驳回（审批流 ${e.data.chain}）`, en: `Approval rejected (chain ${e.data.chain})` },
        why: {
          zh: e.data.rejectedBy ? `${e.data.rejectedBy}：${e.data.reason}` : e.data.reason,
          en: e.data.rejectedBy ? `${e.data.rejectedBy}: ${e.data.reason}` : e.data.reason,
        },
      };
    case 'OrderReadyToShip': {
      const notes: Bilingual[] = [];
      if (e.data.priority === 'high') notes.push({ zh: '优先', en: 'priority' });
      if (e.data.freeShipping) notes.push({ zh: '包邮', en: 'free shipping' });
      if (e.data.requiresQc) notes.push({ zh: '需质检', en: 'QC required' });
      const suffixZh = notes.length ? `（${notes.map((n) => n.zh).join('、')}）` : '';
      const suffixEn = notes.length ? ` (${notes.map((n) => n.en).join(', ')})` : '';
      const rule = ctx.lastRule && FROM_RULE_ON_READY.has(ctx.lastRule.decision) ? ctx.lastRule : null;
      return {
        what: { zh: `审单通过，待发货${suffixZh}`, en: `Audit passed; ready to ship${suffixEn}` },
        why: rule ? ruleWhy(rule.ruleId, rule.ruleSetVersion, rule.decision) : null,
        rule: rule ? { ruleId: rule.ruleId, ruleSetVersion: rule.ruleSetVersion } : null,
      };
    }
    case 'OrderPacked':
      return {
        what: e.data.waybillNo
          ? { zh: `已打包出库，电子面单 ${e.data.waybillNo}`, en: `Packed; waybill ${e.data.waybillNo}` }
          : { zh: '已打包出库', en: 'Packed' },
      };
    case 'OrderShipped':
      return { what: { zh: `已发货：${e.data.carrier}，运单号 ${e.data.trackingNumber}`, en: `Shipped with ${e.data.carrier}, tracking number ${e.data.trackingNumber}` } };
    case 'OrderDelivered':
      return { what: { zh: '顾客已签收', en: 'Delivered to the customer' } };
    case 'OrderArchived':
      return { what: { zh: '售后期结束，订单归档', en: 'Archived after the after-sales window' } };
    case 'OrderCancelled': {
      const s = STAGE_LABELS[e.data.stageAtCancel] ?? { zh: e.data.stageAtCancel, en: e.data.stageAtCancel };
      return { what: { zh: `订单已取消（取消时处于「${s.zh}」）`, en: `Order cancelled (was ${s.en})` }, why: reason(e.data.reason) };
    }
    case 'OrderRefundRequested': {
      const m = formatMoney(e.data.amount, currency);
      return { what: { zh: `申请退款 ${m}`, en: `Refund of ${m} requested` }, why: reason(e.data.reason) };
    }
    case 'OrderRefunded': {
      const m = formatMoney(e.data.amount, currency);
      return e.data.afterShipment
        ? { what: { zh: `已退款 ${m}（发货后，转退货流程）`, en: `Refunded ${m} (after shipment; returns flow)` } }
        : { what: { zh: `已退款 ${m}，订单关闭`, en: `Refunded ${m}; order closed` } };
    }
    case 'OrderPutOnHold': {
      // A rule put it on hold when the event names one; its version comes from the rule decision before it.
      const last = ctx.lastRule ?? null;
      const rule = e.data.ruleId
        ? { ruleId: e.data.ruleId, ruleSetVersion: last?.ruleId === e.data.ruleId ? last.ruleSetVersion : '?' }
        : last?.decision === 'hold_for_review'
          ? last
          : null;
      return {
        what: { zh: '订单挂起', en: 'Put on hold' },
        why: rule ? { zh: `${e.data.reason}；${ruleWhy(rule.ruleId, rule.ruleSetVersion).zh}`, en: `${e.data.reason}; ${ruleWhy(rule.ruleId, rule.ruleSetVersion).en}` } : reason(e.data.reason),
        rule: rule ? { ruleId: rule.ruleId, ruleSetVersion: rule.ruleSetVersion } : null,
      };
    }
    case 'OrderHoldReleased':
      return { what: { zh: '解除挂起', en: 'Hold released' }, why: reason(e.data.reason) };
    case 'OrderExceptionFlagged':
      return { what: { zh: `标记为异常（${e.data.code}）`, en: `Flagged as exception (${e.data.code})` }, why: reason(e.data.reason) };
    case 'OrderExceptionResolved':
      return { what: { zh: '异常已处理', en: 'Exception resolved' }, why: reason(e.data.reason) };
    case 'OrderChanged': {
      const c = e.data.changes;
      const parts = [...c.added.map((l) => `+${l}`), ...c.removed.map((l) => `-${l}`), ...c.quantities.map((q) => `${q.lineId} ${q.before}→${q.after}`)];
      // The new address as published (masked), the carrier service, the invoice title (masked when a person's).
      const a = e.data.shippingAddress;
      const where = a ? `${a.province}${a.city}${a.district}${a.streetMasked ?? ''}${a.recipientMasked ? ` ${a.recipientMasked}` : ''}` : '';
      const zh = [...parts, ...(a ? [`新地址 ${where}`] : []), ...(e.data.shippingMethod ? [`配送方式 ${e.data.shippingMethod}`] : []), ...(e.data.invoice ? [`发票抬头 ${e.data.invoice.titleMasked}`] : [])];
      const en = [...parts, ...(a ? [`new address ${where}`] : []), ...(e.data.shippingMethod ? [`shipping ${e.data.shippingMethod}`] : []), ...(e.data.invoice ? [`invoice ${e.data.invoice.titleMasked}`] : [])];
      return {
        what: { zh: `订单已变更：${zh.join('，') || '地址'}，差价 ${e.data.priceDifference} 分`, en: `Order changed: ${en.join(', ') || 'address'}, price difference ${e.data.priceDifference} fen` },
      };
    }
    case 'OrderChangeRefused':
      return { what: { zh: '订单变更未执行（订单已打包或已发出）', en: 'Change not applied (the order was packed or shipped meanwhile)' }, why: reason(e.data.reason) };
    case 'OrderPaymentDue':
      return e.data.amount > 0
        ? { what: { zh: `订单变更需补款 ${e.data.amount} 分（付清前不发货）`, en: `Change payment due: ${e.data.amount} fen (not shipped until paid)` } }
        : { what: { zh: '变更差价已抵消，无需补款', en: 'Change payment no longer due (cancelled out)' } };
    case 'OrderPartialRefundRequested':
      return { what: { zh: `订单变更需部分退款 ${e.data.amount} 分（待财务确认）`, en: `Partial refund of ${e.data.amount} fen requested for a change (finance to confirm)` }, why: reason(e.data.reason) };
    case 'OrderPartialRefunded':
      return { what: { zh: `部分退款已完成 ${e.data.amount} 分`, en: `Partial refund of ${e.data.amount} fen paid` } };
    case 'OrderPiiRevealed': {
      // The audit line of an unmasked look (issues #16/#17): who, why, which fields; never a value.
      const who = renderWho(e.actor);
      const fields = e.data.fields.map((f) => PII_FIELD_LABELS[f]);
      return {
        what: { zh: `${who.zh} 查看了完整个人信息（${e.data.reason}）`, en: `PII revealed by ${who.en} (${e.data.reason})` },
        why: { zh: `字段：${fields.map((f) => f.zh).join('、')}`, en: `fields: ${fields.map((f) => f.en).join(', ')}` },
      };
    }

    // ---- inventory.events.v1 (reservation outcomes are keyed by order; stock levels are not timeline material)
    case 'StockReserved': {
      const a = allocations(e.data.allocations);
      return { what: { zh: `仓库预占库存：${a.zh}`, en: `Inventory reserved ${a.en}` } };
    }
    case 'StockShortage':
      return { what: { zh: '仓库库存不足，无法预占', en: 'Inventory could not reserve: shortage' }, why: missing(e.data.missing) };
    case 'StockReleased': {
      const r = labelOf(RELEASE_REASON_LABELS, e.data.reason);
      return { what: { zh: '预占库存已释放', en: 'Reserved stock released' }, why: r };
    }
    case 'StockCommitted':
      return { what: { zh: '库存已出库扣减', en: 'Stock committed (left the warehouse)' } };
    case 'StockLinesReleased': {
      const a = allocations(e.data.released);
      return { what: { zh: `部分预占库存已释放：${a.zh}`, en: `Part of the reserved stock released: ${a.en}` }, why: reason(e.data.reason) };
    }
    case 'StockWentNegative':
      return {
        what: {
          zh: `库存异常：${e.data.sku} 在 ${e.data.warehouseId} 的可用库存为 ${e.data.available}（已释放后仍发货）`,
          en: `Stock exception: ${e.data.sku} in ${e.data.warehouseId} went to ${e.data.available} available (shipped after release)`,
        },
        why: { zh: `在库 ${e.data.onHand}，已预占 ${e.data.reserved}`, en: `on hand ${e.data.onHand}, reserved ${e.data.reserved}` },
      };
    case 'StockReceived':
    case 'StockAdjusted':
    case 'StockLevelChanged':
    case 'AvailableToPromiseChanged':
    case 'LowStockAlerted':
      return undefined;

    // ---- approval.events.v1
    case 'ApprovalRequested': {
      const chain = labelOf(APPROVAL_CHAIN_LABELS, e.data.chain);
      const steps = e.data.steps.map((x) => labelOf(APPROVAL_STEP_LABELS, x));
      return { what: { zh: `发起审批（${chain.zh}）：${steps.map((x) => x.zh).join(' → ')}`, en: `Approval started (${chain.en}): ${steps.map((x) => x.en).join(' -> ')}` } };
    }
    case 'ApprovalStepApproved': {
      const role = labelOf(ROLE_LABELS, e.data.role);
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return {
        what: { zh: `${role.zh} ${e.data.by} 审批通过（${step.zh}）`, en: `${role.en} ${e.data.by} approved (${step.en})` },
        why: reason(e.data.comment),
      };
    }
    case 'ApprovalGranted': {
      const chain = labelOf(APPROVAL_CHAIN_LABELS, e.data.chain);
      return { what: { zh: `全部审批通过（${chain.zh}）`, en: `Every approval step passed (${chain.en})` } };
    }
    case 'ApprovalRejected': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return {
        what: { zh: `${e.data.by} 在「${step.zh}」环节驳回`, en: `${e.data.by} rejected at step ${step.en}` },
        why: reason(e.data.reason),
      };
    }
    case 'ApprovalWithdrawn':
      return { what: { zh: '审批已撤回', en: 'Approval withdrawn' }, why: reason(e.data.reason) };
    case 'ApprovalStepStarted': {
      const who = e.data.role ? labelOf(ROLE_LABELS, e.data.role) : { zh: (e.data.approvers ?? []).join('、'), en: (e.data.approvers ?? []).join(', ') };
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      const due = beijingTime(e.data.dueAt);
      return {
        what: { zh: `等待${who.zh}审批（${step.zh}，第 ${e.data.attempt} 次，时限 北京时间 ${due}）`, en: `Waiting for ${who.en} (${step.en}, attempt ${e.data.attempt}, due ${due} Beijing time)` },
      };
    }
    case 'ApprovalStepSkipped': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `跳过审批环节「${step.zh}」`, en: `Step ${step.en} skipped` }, why: reason(e.data.reason) };
    }
    case 'ApprovalStepDelegated': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `${e.data.by} 将「${step.zh}」转交 ${e.data.to}`, en: `${e.data.by} delegated ${step.en} to ${e.data.to}` }, why: reason(e.data.reason) };
    }
    case 'ApprovalVoteRecorded': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `${e.data.by} 同意（${step.zh}），尚待 ${e.data.remaining.join('、')}`, en: `${e.data.by} approved (${step.en}); still waiting for ${e.data.remaining.join(', ')}` }, why: reason(e.data.comment) };
    }
    case 'ApprovalReturned': {
      const role = labelOf(ROLE_LABELS, e.data.role);
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `${role.zh} ${e.data.by} 退回修改（${step.zh}）`, en: `${role.en} ${e.data.by} returned it for changes (${step.en})` }, why: reason(e.data.comment) };
    }
    case 'ApprovalResubmitted': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `${e.data.by} 修改后重新提交（${step.zh}）`, en: `${e.data.by} resubmitted after changes (${step.en})` }, why: reason(e.data.comment) };
    }
    case 'ApprovalStepReminded': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      const due = beijingTime(e.data.dueAt);
      return { what: { zh: `审批提醒：「${step.zh}」临近时限 北京时间 ${due}`, en: `Reminder: ${step.en} is due ${due} Beijing time` } };
    }
    case 'ApprovalStepEscalated': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `审批超时，「${step.zh}」已升级至 ${e.data.to}`, en: `Overdue: ${step.en} escalated to ${e.data.to}` } };
    }
    case 'ApprovalExpired': {
      const step = labelOf(APPROVAL_STEP_LABELS, e.data.step);
      return { what: { zh: `审批过期（${step.zh}）`, en: `Approval expired (${step.en})` } };
    }
    case 'ApprovalFreezeOverridden':
      return {
        what: { zh: `总经理特批：已打包（${e.data.shipmentIds.join('、')}）仍允许变更，${e.data.by}`, en: `Manager override of the packing freeze (${e.data.shipmentIds.join(', ')}) by ${e.data.by}` },
        why: reason(e.data.reason),
      };
    case 'ChangeApproved': {
      const d = e.data.diff;
      const diff = formatMoney(d.priceDifference, d.totals.after.currency);
      return {
        what: {
          zh: `订单变更已批准：新增 ${d.lines.added.length} 行，删除 ${d.lines.removed.length} 行，改数量 ${d.lines.changed.length} 行，差价 ${diff}`,
          en: `Change approved: ${d.lines.added.length} added, ${d.lines.removed.length} removed, ${d.lines.changed.length} quantity changes, price difference ${diff}`,
        },
      };
    }
    case 'ChangeRefused':
      return { what: { zh: '订单变更被拒绝（整单不变更）', en: 'Change refused as a whole' }, why: reason(e.data.reason) };

    // ---- fulfillment.events.v1
    case 'ShipmentPacked':
      return { what: { zh: `仓库打包完成，电子面单 ${e.data.waybillNo}`, en: `Warehouse packed the shipment; waybill ${e.data.waybillNo}` } };
    case 'ShipmentShipped':
      return { what: { zh: `已交承运商 ${e.data.carrier}，运单号 ${e.data.trackingNumber}`, en: `Handed to ${e.data.carrier}, tracking number ${e.data.trackingNumber}` } };
    case 'ShipmentDelivered':
      return { what: { zh: '承运商回传：已签收', en: 'Carrier reports delivery' } };
    case 'FulfillmentStopped':
      return {
        what: e.data.wasPacked
          ? { zh: '停止履约：已打包，拆包回库', en: 'Fulfilment stopped: packed units go back to stock' }
          : { zh: '停止履约', en: 'Fulfilment stopped' },
        why: reason(e.data.reason),
      };
    case 'ShipmentInterceptRequested':
      return { what: { zh: `已打包包裹 ${e.data.shipmentId} 需拦截（仓库确认）`, en: `Packed parcel ${e.data.shipmentId} must be intercepted (warehouse to confirm)` }, why: reason(e.data.reason) };
    case 'ShipmentTrackingUpdated':
      return { what: { zh: `物流更新（${e.data.carrier} ${e.data.trackingNumber}）：${e.data.description}`, en: `Carrier update (${e.data.carrier} ${e.data.trackingNumber}): ${e.data.state}` } };
    case 'ShipmentCarrierException':
      return { what: { zh: `物流异常（${e.data.carrier} ${e.data.trackingNumber}）`, en: `Carrier problem (${e.data.carrier} ${e.data.trackingNumber})` }, why: reason(e.data.description) };
    case 'FreezeOverridden':
      return { what: { zh: '特批：解除打包后冻结', en: 'Freeze after packing overridden' }, why: reason(e.data.reason) };
    case 'ReturnRequested':
      return { what: { zh: `退货申请 ${e.data.rmaId}：${e.data.lines.map((l) => `${l.sku}×${l.quantity}`).join('，')}`, en: `Return ${e.data.rmaId} opened: ${e.data.lines.map((l) => `${l.sku}x${l.quantity}`).join(', ')}` }, why: reason(e.data.reason) };
    case 'ReturnReceived':
      return {
        what: {
          zh: `退货已入库 ${e.data.rmaId}：${e.data.lines.map((l) => `${l.sku}×${l.quantity}（${l.condition === 'resellable' ? '可售，回库' : '残损，报废'}）`).join('，')}`,
          en: `Return ${e.data.rmaId} received: ${e.data.lines.map((l) => `${l.sku}x${l.quantity} (${l.condition === 'resellable' ? 'restocked' : 'written off'})`).join(', ')}`,
        },
      };
    case 'WorkOrderProgressed': {
      const st = { created: { zh: '已建工单', en: 'created' }, in_production: { zh: '生产中', en: 'in production' }, completed: { zh: '生产完成', en: 'completed' }, problem: { zh: '生产异常', en: 'problem' } }[e.data.status];
      const pct = e.data.percent !== undefined && e.data.status === 'in_production' ? ` ${e.data.percent}%` : '';
      return { what: { zh: `工厂工单 ${e.data.workOrderId}：${st.zh}${pct}`, en: `Work order ${e.data.workOrderId}: ${st.en}${pct}` }, why: reason(e.data.message) };
    }
    // ---- notification.events.v1 (what the customer or staff were told, and on which channel)
    case 'NotificationSent': {
      const c = labelOf(NOTIFICATION_CHANNEL_LABELS, e.data.channel);
      return {
        what: { zh: `已通知${e.data.recipientKind === 'customer' ? '顾客' : ''} ${e.data.recipientMasked}（${c.zh}，${e.data.template}）`, en: `Notified ${e.data.recipientKind === 'customer' ? 'the customer ' : ''}${e.data.recipientMasked} (${c.en}, ${e.data.template})` },
        why: e.data.attempts > 1 ? { zh: `第 ${e.data.attempts} 次尝试成功`, en: `succeeded on attempt ${e.data.attempts}` } : null,
      };
    }
    case 'NotificationFailed': {
      const c = labelOf(NOTIFICATION_CHANNEL_LABELS, e.data.channel);
      return {
        what: { zh: `通知未送达：${e.data.recipientMasked}（${c.zh}，${e.data.template}）`, en: `Notification not delivered: ${e.data.recipientMasked} (${c.en}, ${e.data.template})` },
        why: { zh: `${e.data.code}：${e.data.reason}`, en: `${e.data.code}: ${e.data.reason}` },
      };
    }
    case 'NotificationSuppressed': {
      const c = labelOf(NOTIFICATION_CHANNEL_LABELS, e.data.channel);
      const r = e.data.reason === 'opted_out' ? { zh: '顾客已退订该渠道', en: 'the customer opted out of this channel' } : { zh: '没有该渠道的联系方式', en: 'no address for this channel' };
      return { what: { zh: `未发送通知（${c.zh}，${e.data.template}）`, en: `Notification not sent (${c.en}, ${e.data.template})` }, why: r };
    }
    default:
      return assertNever(e, 'tracked event');
  }
}

/**
 * The timeline line for one event, or undefined when the event is not about an order
 * (stock levels, ATP, receipts). Pure: the same event and context give the same row.
 */
export function projectTimelineEntry(e: TrackedEvent, ctx: TimelineContext = {}): TimelineEntryRow | undefined {
  const orderId = orderIdOf(e);
  const context = contextOf(e.type);
  if (!orderId || !context) return undefined;
  const r = render(e, ctx);
  if (!r) return undefined;
  const who = renderWho(e.actor);
  return {
    eventId: e.eventId,
    orderId,
    occurredAt: e.occurredAt,
    type: e.type,
    context,
    streamId: e.streamId,
    streamPosition: e.streamPosition,
    actorKind: e.actor?.kind ?? null,
    actorId: e.actor?.id ?? null,
    actorRole: e.actor?.role ?? null,
    actorName: e.actor?.kind === 'customer' ? maskName(e.actor.name) || null : (e.actor?.name ?? null),
    whoZh: who.zh,
    whoEn: who.en,
    whatZh: r.what.zh,
    whatEn: r.what.en,
    whyZh: r.why?.zh ?? null,
    whyEn: r.why?.en ?? null,
    ruleId: r.rule?.ruleId ?? null,
    ruleSetVersion: r.rule?.ruleSetVersion ?? null,
    ruleSetHash: r.rule?.ruleSetHash ?? null,
    stageAfter: ctx.stageAfter ?? null,
    envelope: e,
  };
}

/** Timeline order: by time, then by position within a stream, then by event id (a total, stable order). */
export function compareTimeline(a: Pick<TimelineEntryRow, 'occurredAt' | 'streamId' | 'streamPosition' | 'eventId'>, b: typeof a): number {
  const ta = Date.parse(a.occurredAt);
  const tb = Date.parse(b.occurredAt);
  if (ta !== tb) return ta - tb;
  if (a.streamId === b.streamId && a.streamPosition !== b.streamPosition) return a.streamPosition - b.streamPosition;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
