import { Public } from '@flowline/auth';
import { Body, Controller, HttpCode, Logger, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isDomainError } from '@flowline/domain';
import type { FastifyReply } from 'fastify';
import type { CarrierUpdate } from '../../application/carrier.port';
import { parseCainiaoPush } from '../../infra/carriers/cainiao.adapter';
import { kuaidi100Reply, parseKuaidi100Callback } from '../../infra/carriers/kuaidi100.adapter';
import { parseSfRoutePush, sfPushReply } from '../../infra/carriers/sf-express.adapter';
import { FulfillmentApi } from '../fulfillment-api';

type Form = Record<string, string | undefined>;

/**
 * Tracking pushes from carriers (form posts, signed by each carrier's rule). A bad signature is
 * refused with 400 and changes nothing; a good one updates the parcel (duplicates and older states
 * are ignored by the decider, so a push repeated or out of order cannot move a parcel back).
 * Replies are in each carrier's own format.
 */
@ApiExcludeController()
@Public()
@Controller('api/fulfillment/callbacks')
export class CarrierCallbacksController {
  private readonly log = new Logger('carrier-callbacks');

  constructor(private readonly api: FulfillmentApi) {}

  private async apply(carrier: string, updates: CarrierUpdate[]): Promise<void> {
    for (const u of updates) {
      const applied = await this.api.applyCarrierUpdate(u, { kind: 'channel', id: carrier });
      if (!applied) this.log.warn(`${carrier}: no parcel with tracking number ${u.trackingNumber} (push ignored)`);
    }
  }

  private async guard<T>(res: FastifyReply, refuse: (message: string) => T, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (!isDomainError(e) || e.kind !== 'invalid') throw e;
      void res.status(400);
      return refuse(e.message);
    }
  }

  @Post('sf-express')
  @HttpCode(200)
  sf(@Body() form: Form, @Res({ passthrough: true }) res: FastifyReply) {
    return this.guard(res, (m) => sfPushReply(false, m), async () => {
      const cfg = this.api.carrierConfigs.sf;
      if (!cfg) return sfPushReply(false, 'SF Express is not configured');
      await this.apply('sf-express', parseSfRoutePush(form, cfg.checkWord));
      return sfPushReply(true);
    });
  }

  @Post('kuaidi100')
  @HttpCode(200)
  kuaidi100(@Body() form: Form, @Res({ passthrough: true }) res: FastifyReply) {
    return this.guard(res, (m) => kuaidi100Reply(false, m), async () => {
      const cfg = this.api.carrierConfigs.kuaidi100;
      if (!cfg) return kuaidi100Reply(false, 'Kuaidi100 is not configured');
      const cb = parseKuaidi100Callback(form, cfg.salt);
      if (cb.update) await this.apply('kuaidi100', [cb.update]);
      if (cb.resubscribe) await this.api.resubscribe(cb.resubscribe.company, cb.resubscribe.number);
      return kuaidi100Reply(true);
    });
  }

  @Post('cainiao')
  @HttpCode(200)
  cainiao(@Body() form: Form, @Res({ passthrough: true }) res: FastifyReply) {
    return this.guard(res, (m) => ({ success: false, errorMsg: m }), async () => {
      const cfg = this.api.carrierConfigs.cainiao;
      if (!cfg) return { success: false, errorMsg: 'Cainiao is not configured' };
      const update = parseCainiaoPush(form, cfg.appSecret);
      if (update) await this.apply('cainiao', [update]);
      return { success: true };
    });
  }
}
