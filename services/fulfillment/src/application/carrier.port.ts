import type { CarrierState, ShipmentLineData } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';

/** What a carrier needs to print an e-waybill (电子面单) for a parcel. */
export interface WaybillRequest {
  orderId: string;
  shipmentId: string;
  warehouseId: string;
  lines: ShipmentLineData[];
  /**
   * Receiver, when known: platform orders carry only the encrypted handle (oaid + the platform's
   * order id tid), which the carrier decrypts when printing; never decrypted here.
   */
  recipient?: { oaid?: string; tid?: string; contact?: string; mobile?: string; address?: string };
}

/** One tracking state reported by a carrier (push or poll), mapped to Flowline's states. */
export interface CarrierUpdate {
  trackingNumber: string;
  state: CarrierState;
  description: string;
  at: string;
}

/** A carrier adapter: e-waybill numbers on packing. Tracking arrives through callbacks or the simulator. */
export interface CarrierPort {
  readonly code: string;
  createWaybill(request: WaybillRequest): Promise<{ waybillNo: string }>;
}

/** Carriers by code; an unconfigured carrier is refused with a clear error. */
export class CarrierRegistry {
  private readonly carriers = new Map<string, CarrierPort>();

  register(carrier: CarrierPort): void {
    this.carriers.set(carrier.code, carrier);
  }

  get(code: string): CarrierPort {
    const c = this.carriers.get(code);
    if (!c) {
      throw new DomainError('CARRIER_NOT_CONFIGURED', `carrier ${code} is not configured (configured: ${[...this.carriers.keys()].join(', ') || 'none'})`, { field: 'carrier', carrier: code }, 'invalid');
    }
    return c;
  }

  codes(): string[] {
    return [...this.carriers.keys()];
  }
}
