import type { TrackingEventDataMap, TrackingEventType } from '@flowline/contracts';

/** What the alert scan reads of an order (tracking's order_summary, times as ISO strings). */
export interface SlaAlertCandidate {
  orderId: string;
  channelOrderId: string;
  shopId: string;
  stage: string;
  stageEnteredAt: string;
  slaColour: string;
  stuck: boolean;
  slaSegment: string | null;
  slaStartedAt: string | null;
  slaYellowAt: string | null;
  slaDueAt: string | null;
  stuckAt: string | null;
  /** When the clock job last set the colour / stuck flag (`status_at`): the alert's `detectedAt`. */
  statusAt?: string | null;
}

/** One alert to publish, with the key that makes it once-only. */
export interface SlaAlert<K extends TrackingEventType = TrackingEventType> {
  /** `<orderId>|<kind>|<segment or stage>|<clock start>`: the same transition always has the same key. */
  key: string;
  type: K;
  data: TrackingEventDataMap[K];
}

/**
 * The alerts an order's current status asks for (pure). A transition is identified by the SLA
 * segment run (its start time) and the colour, or the stage visit (its entry time) for stuck:
 * re-entering a segment or a stage later is a new transition, a later tick of the same one is not.
 * An order seen red without having been seen yellow (a tick skipped the window) gets only the red one.
 */
export function slaAlertsFor(o: SlaAlertCandidate, detectedAt: string): SlaAlert[] {
  const out: SlaAlert[] = [];
  const base = { orderId: o.orderId, channelOrderId: o.channelOrderId, shopId: o.shopId, stage: o.stage };
  if ((o.slaColour === 'yellow' || o.slaColour === 'red') && o.slaSegment && o.slaStartedAt && o.slaYellowAt && o.slaDueAt) {
    const type = o.slaColour === 'yellow' ? 'OrderSlaTurnedYellow' : 'OrderSlaTurnedRed';
    out.push({
      key: `${o.orderId}|${o.slaColour}|${o.slaSegment}|${o.slaStartedAt}`,
      type,
      data: { ...base, segment: o.slaSegment, slaStartedAt: o.slaStartedAt, slaYellowAt: o.slaYellowAt, slaDueAt: o.slaDueAt, detectedAt },
    });
  }
  if (o.stuck && o.stuckAt) {
    out.push({
      key: `${o.orderId}|stuck|${o.stage}|${o.stageEnteredAt}`,
      type: 'OrderStuck',
      data: { ...base, stageEnteredAt: o.stageEnteredAt, stuckAt: o.stuckAt, detectedAt },
    });
  }
  return out;
}

/** Tracking's event stream for an order's alerts (in tracking's own event store). */
export const TRACKING_STREAM_PREFIX = 'tracking-';
export const trackingStream = (orderId: string): string => `${TRACKING_STREAM_PREFIX}${orderId}`;
