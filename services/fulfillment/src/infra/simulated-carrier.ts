import type { CarrierState } from '@flowline/contracts';
import type { CarrierPort, WaybillRequest } from '../application/carrier.port';

/**
 * The simulated carrier (code `SIM`, the default of `npm start`): prints waybill numbers locally
 * and, driven by the runtime's timer, moves each of its parcels one tracking state on per step
 * until delivered, so a demo order reaches delivered by itself.
 */
export class SimulatedCarrier implements CarrierPort {
  readonly code = 'SIM';

  constructor(private readonly newId: () => string) {}

  createWaybill(_request: WaybillRequest): Promise<{ waybillNo: string }> {
    return Promise.resolve({ waybillNo: `SIM${this.newId()}` });
  }
}

/** The next state of a simulated parcel after `current` (null: just handed over); null when done. */
export function nextSimulatedState(current: CarrierState | null): { state: CarrierState; description: string } | null {
  switch (current) {
    case null:
      return { state: 'picked_up', description: '快递员已揽收' };
    case 'picked_up':
      return { state: 'in_transit', description: '快件已到达转运中心，运输中' };
    case 'in_transit':
      return { state: 'out_for_delivery', description: '快件正在派送中' };
    case 'out_for_delivery':
      return { state: 'delivered', description: '已签收，签收人：本人' };
    default:
      return null;
  }
}
