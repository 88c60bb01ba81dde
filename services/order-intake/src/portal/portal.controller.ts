import { Body, Controller, Get, HttpCode, Inject, Param, Post, UnauthorizedException } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public, Requires, notFoundOutOfScope } from '@flowline/auth';
import { IdParam, Throttle } from '@flowline/platform';
import { CustomerSessionDto, PortalCodeAcceptedDto, PortalCodeRequestDto, PortalLinkDto, PortalLinkSessionRequestDto, PortalSessionRequestDto } from './portal.dto';
import { portalConfigFromEnv } from './portal.config';
import { PortalRefused, PortalService, type CustomerSession } from './portal.service';

const HOUR = 3_600_000;
// Route limits per client IP, counted in PostgreSQL so every instance shares them (libs/platform throttle).
const limits = portalConfigFromEnv();

const ACCEPTED: PortalCodeAcceptedDto = { status: 'accepted', message: 'If the order number and phone match an order, a code is on its way by SMS.' };

function refused(): never {
  throw new UnauthorizedException({ code: 'PORTAL_CODE_INVALID', message: new PortalRefused().message });
}

/** The customer portal's identity endpoints: codes, sessions, links, and the JWKS of customer tokens. */
@ApiTags('portal')
@Controller()
export class PortalController {
  constructor(@Inject(PortalService) private readonly portal: PortalService) {}

  @Post('api/portal/otp')
  @Public()
  @HttpCode(202)
  @Throttle({ ip: { limit: limits.otpRequestsPerIpPerHour, ttl: HOUR } })
  @ApiOperation({ summary: 'Send a one-time code by SMS to the phone on the order (same answer whether or not they match)' })
  @ApiAcceptedResponse({ type: PortalCodeAcceptedDto })
  @ApiTooManyRequestsResponse({ description: 'Too many code requests from this address (Retry-After)' })
  async requestCode(@Body() body: PortalCodeRequestDto): Promise<PortalCodeAcceptedDto> {
    await this.portal.requestCode(body.orderNo, body.phone);
    return ACCEPTED;
  }

  @Post('api/portal/session')
  @Public()
  @HttpCode(200)
  @Throttle({ ip: { limit: limits.sessionAttemptsPerIpPerHour, ttl: HOUR } })
  @ApiOperation({ summary: 'Trade order number + phone + code for a 15-minute customer token' })
  @ApiOkResponse({ type: CustomerSessionDto })
  @ApiUnauthorizedResponse({ description: 'PORTAL_CODE_INVALID: wrong, expired or used code, wrong phone or order, or locked after 5 wrong codes' })
  async openSession(@Body() body: PortalSessionRequestDto): Promise<CustomerSession> {
    try {
      return await this.portal.openSession(body.orderNo, body.phone, body.code);
    } catch (error) {
      if (error instanceof PortalRefused) refused();
      throw error;
    }
  }

  @Post('api/portal/session/link')
  @Public()
  @HttpCode(200)
  @Throttle({ ip: { limit: limits.sessionAttemptsPerIpPerHour, ttl: HOUR } })
  @ApiOperation({ summary: 'Trade a signed link from an SMS for a 15-minute customer token' })
  @ApiOkResponse({ type: CustomerSessionDto })
  @ApiUnauthorizedResponse({ description: 'PORTAL_CODE_INVALID: the link is expired, altered or not ours' })
  async openSessionWithLink(@Body() body: PortalLinkSessionRequestDto): Promise<CustomerSession> {
    try {
      return await this.portal.openSessionWithLink(body.token);
    } catch (error) {
      if (error instanceof PortalRefused) refused();
      throw error;
    }
  }

  @Post('api/portal/links/:orderId')
  @Requires('create', 'Notification')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'A signed, expiring portal link for the customer of an order (for a notification)' })
  @ApiOkResponse({ type: PortalLinkDto })
  @HttpCode(200)
  async link(@Param('orderId', new IdParam('orderId')) orderId: string): Promise<PortalLinkDto> {
    const link = await this.portal.linkForOrder(orderId);
    if (!link) throw notFoundOutOfScope('order', orderId, 'ORDER_NOT_FOUND');
    return link;
  }

  @Get('portal/.well-known/jwks.json')
  @Public()
  @ApiOperation({ summary: 'Public keys of customer tokens (ES256)' })
  jwks(): { keys: Record<string, string>[] } {
    return this.portal.jwks();
  }
}
