import { checkIdempotencyKey } from '@flowline/platform';
import { ForCustomers, requireOwnOrder, requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApprovalCommands } from '../../application/approval.commands';
import { ApprovalRuntime } from '../../infra/approval-runtime';
import { actorFrom } from '../actor';
import { ChangeRequestDto } from './dto/change-request.dto';

/** REST: order change requests. They run the `order-change` chain; the reply is the approval (kind `change`) with its diff. */
@ApiTags('change-requests')
@Controller('api/change-requests')
export class ChangeRequestsController {
  private readonly commands: ApprovalCommands;

  constructor(runtime: ApprovalRuntime) {
    this.commands = new ApprovalCommands(runtime);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Raise a change (add / remove lines, quantities, address, carrier service, invoice). 409 CHANGE_FROZEN naming the packed shipment unless a general manager overrides; CHANGE_NOT_ALLOWED once shipped; 422 naming the field for unknown lines.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('create', 'ChangeRequest')
  @ForCustomers()
  raise(@Body() dto: ChangeRequestDto, @Headers() h: Record<string, string | undefined>) {
    const principal = requirePrincipal(h);
    // The portal's buyer asks for changes to the orders in their token only: another order is a 404, as an unknown one.
    requireOwnOrder(principal, dto.orderId);
    const actor = actorFrom(principal);
    const key = checkIdempotencyKey(h['idempotency-key']);
    return this.commands.raiseChange(
      {
        orderId: dto.orderId,
        ...(dto.addLines ? { addLines: dto.addLines.map((l) => ({ lineId: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: l.lineDiscount ?? 0, ...(l.category ? { category: l.category } : {}) })) } : {}),
        ...(dto.removeLineIds ? { removeLineIds: dto.removeLineIds } : {}),
        ...(dto.quantities ? { quantities: dto.quantities.map((q) => ({ lineId: q.lineId, quantity: q.quantity })) } : {}),
        ...(dto.shippingAddress ? { shippingAddress: { ...dto.shippingAddress } } : {}),
        ...(dto.shippingMethod ? { shippingMethod: dto.shippingMethod } : {}),
        ...(dto.invoice ? { invoice: { type: dto.invoice.type, title: dto.invoice.title, ...(dto.invoice.taxId ? { taxId: dto.invoice.taxId } : {}), ...(dto.invoice.email ? { email: dto.invoice.email } : {}) } } : {}),
        ...(dto.note ? { note: dto.note } : {}),
        ...(dto.override ? { override: { reason: dto.override.reason } } : {}),
      },
      actor,
      { ...(key ? { idempotencyKey: key } : {}), shops: shopFilter(principal) },
    );
  }
}
