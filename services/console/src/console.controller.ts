import { Public } from '@flowline/auth';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ConsoleAuth, LOGIN_COOKIE, PORTAL_COOKIE, STAFF_COOKIE } from './auth/console-auth';
import { OidcError } from './auth/oidc-client';
import { pkcePair, randomToken } from './auth/pkce';
import { safeReturnTo, type SessionUser } from './auth/sessions';
import { type ConsoleConfig, UPSTREAMS } from './console.config';
import { CONSOLE_AUTH, CONSOLE_CONFIG } from './console.module.tokens';
import { SameOriginGuard } from './same-origin.guard';

class ConsoleUserDto {
  @ApiProperty() subject!: string;
  @ApiPropertyOptional() name?: string;
  @ApiProperty({ type: [String], description: 'roles from the access token (auth contract)' }) roles!: string[];
  @ApiProperty({ type: [String], description: 'shop ids; ["*"] = all shops' }) shops!: string[];
}

class ConsoleActorDto {
  @ApiProperty() id!: string;
  @ApiProperty() role!: string;
}

class SessionDto {
  @ApiPropertyOptional({ type: ConsoleActorDto, nullable: true, deprecated: true, description: 'Deprecated (use user): the subject and first role; null when nobody is logged in' })
  actor!: ConsoleActorDto | null;
  @ApiPropertyOptional({ type: ConsoleUserDto, nullable: true, description: 'The logged-in staff user; null when nobody is logged in' })
  user!: ConsoleUserDto | null;
  @ApiProperty({ description: 'How staff log in: OIDC authorization code + PKCE through the BFF' })
  login!: 'oidc';
  @ApiProperty({ description: 'epoch ms when the current access token expires (the BFF refreshes it ahead)', nullable: true })
  expiresAt!: number | null;
  @ApiProperty({ type: [String], description: 'Services reachable under /api/<service>/' })
  services!: string[];
}

class LogoutDto {
  @ApiPropertyOptional({ description: "The issuer's end-session URL to visit next (ends the issuer's own login too)", nullable: true })
  endSessionUrl!: string | null;
}

export class PortalSessionBody {
  @ApiProperty({ example: 'JD-900001', description: 'order number as the customer knows it' })
  @IsString()
  @MaxLength(64)
  orderNo!: string;
  @ApiProperty({ example: '13800001234' })
  @IsString()
  @Matches(/^1\d{10}$/)
  phone!: string;
  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/)
  code!: string;
}

export class PortalLinkBody {
  @ApiProperty({ description: 'the `t` parameter of the signed link' })
  @IsString()
  @MaxLength(4096)
  token!: string;
}

class PortalSessionDto {
  @ApiProperty({ type: [String], description: "the orders this customer proved ownership of (the token's orders claim)" }) orders!: string[];
  @ApiProperty({ description: 'epoch ms when the customer token expires' }) expiresAt!: number;
}

type Reply = FastifyReply;
/** The redirect URI path registered for the console at the issuer (scripts/oidc: <console origin>/auth/callback). */
export const CALLBACK_PATH = '/auth/callback';

/** CONSOLE_PUBLIC_URL when set (behind a proxy: the origin registered at the issuer), else the request's own origin. */
const origin = (config: ConsoleConfig, req: FastifyRequest): string => config.publicUrl ?? `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`;
const PORTAL_MAX_AGE_S = 15 * 60;

/**
 * The console's own small API: the staff login (OIDC code + PKCE, tokens kept here, an httpOnly
 * SameSite=Strict cookie in the browser), who is logged in, logout, and the customer portal session.
 */
// Public to the services' guard: the console authenticates its callers itself (its session cookie).
@Public()
@ApiTags('console')
@Controller('api/console')
@UseGuards(SameOriginGuard)
export class ConsoleController {
  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(CONSOLE_AUTH) private readonly auth: ConsoleAuth,
  ) {}

  @Get('session')
  @ApiOperation({ summary: 'The logged-in staff user (roles and shops from the verified access token), or null' })
  @ApiOkResponse({ type: SessionDto })
  async session(@Req() req: FastifyRequest): Promise<SessionDto> {
    const s = await this.auth.staff(req.headers);
    return { actor: s ? { id: s.user.subject, role: s.user.roles[0] ?? '' } : null, user: s ? publicUser(s.user) : null, login: 'oidc', expiresAt: s?.tokens.expiresAt ?? null, services: Object.keys(UPSTREAMS) };
  }

  @Get('login')
  @ApiOperation({ summary: "Starts the login: redirects to the issuer's authorization endpoint (code + PKCE S256, state, nonce)" })
  @ApiQuery({ name: 'returnTo', required: false, description: 'a local path to come back to (anything else -> /)' })
  @ApiFoundResponse({ description: 'to the issuer' })
  async login(@Query('returnTo') returnTo: string | undefined, @Req() req: FastifyRequest, @Res() reply: Reply): Promise<void> {
    const { verifier, challenge } = pkcePair();
    const redirectUri = `${origin(this.config, req)}${CALLBACK_PATH}`;
    const pending = await this.auth.store.startLogin({ verifier, nonce: randomToken(16), returnTo: safeReturnTo(returnTo), redirectUri });
    let url: string;
    try {
      url = await this.auth.oidc.authorizationUrl({ redirectUri, state: pending.state, nonce: pending.nonce, challenge });
    } catch (e) {
      return this.failed(reply, e);
    }
    // Lax: this cookie must come back on the issuer's top-level redirect to /callback (login CSRF check).
    reply.header('set-cookie', this.auth.cookie(LOGIN_COOKIE, pending.state, 600, 'Lax', CALLBACK_PATH));
    reply.header('cache-control', 'no-store');
    await reply.redirect(url, 302);
  }

  @Post('logout')
  @HttpCode(200)
  @ApiOperation({ summary: "Ends the staff session here (tokens dropped, cookie cleared) and names the issuer's end-session URL" })
  @ApiOkResponse({ type: LogoutDto })
  async logout(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: Reply): Promise<LogoutDto> {
    const s = await this.auth.store.destroy(this.auth.cookieValue(req.headers, STAFF_COOKIE));
    reply.header('set-cookie', this.auth.cookie(STAFF_COOKIE, '', 0));
    const endSessionUrl = s ? await this.auth.oidc.endSessionUrl(s.tokens.idToken, `${origin(this.config, req)}/`) : undefined;
    return { endSessionUrl: endSessionUrl ?? null };
  }

  @Get('portal/session')
  @ApiOperation({ summary: "The customer portal session: the customer's orders, or null" })
  @ApiOkResponse({ type: PortalSessionDto })
  async portalSession(@Req() req: FastifyRequest): Promise<{ customer: PortalSessionDto | null }> {
    const s = await this.auth.customer(req.headers);
    return { customer: s ? { orders: s.user.orders ?? [], expiresAt: s.tokens.expiresAt } : null };
  }

  @Post('portal/session')
  @HttpCode(200)
  @ApiOperation({ summary: "Exchanges order number + phone + one-time code at order-intake's portal for a customer token, kept here; the browser gets an httpOnly cookie" })
  @ApiBody({ type: PortalSessionBody })
  @ApiOkResponse({ type: PortalSessionDto })
  async portalLogin(@Body() body: PortalSessionBody, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: Reply): Promise<PortalSessionDto | unknown> {
    return this.portalExchange('/api/portal/session', { orderNo: body.orderNo, phone: body.phone, code: body.code }, req, reply);
  }

  @Post('portal/link')
  @HttpCode(200)
  @ApiOperation({ summary: "Exchanges the signed link from the customer's SMS (its `t`) at order-intake's /api/portal/session/link for a customer token, kept here" })
  @ApiBody({ type: PortalLinkBody })
  @ApiOkResponse({ type: PortalSessionDto })
  async portalLink(@Body() body: PortalLinkBody, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: Reply): Promise<PortalSessionDto | unknown> {
    return this.portalExchange('/api/portal/session/link', { token: body.token }, req, reply);
  }

  private async portalExchange(path: string, payload: Record<string, string>, req: FastifyRequest, reply: Reply): Promise<PortalSessionDto | unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.config.upstreams['order-intake']}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      reply.status(503);
      return { status: 503, code: 'SERVICE_UNAVAILABLE', title: 'order-intake is not reachable', message: 'order-intake is not reachable' };
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      // The portal's refusal (wrong or expired code, locked, rate limited) passes through with its code.
      reply.status(res.status);
      const retry = res.headers.get('retry-after');
      if (retry) reply.header('retry-after', retry);
      return json;
    }
    const token = [json.access_token, json.token, json.accessToken].find((v): v is string => typeof v === 'string');
    if (!token) {
      reply.status(502);
      return { status: 502, code: 'PORTAL_NO_TOKEN', title: 'order-intake answered without a token', message: 'order-intake answered without a token' };
    }
    await this.auth.store.destroy(this.auth.cookieValue(req.headers, PORTAL_COOKIE));
    const s = await this.auth.startCustomer(token);
    reply.header('set-cookie', this.auth.cookie(PORTAL_COOKIE, s.id, Math.max(1, Math.min(PORTAL_MAX_AGE_S, Math.floor((s.tokens.expiresAt - Date.now()) / 1000)))));
    return { orders: s.user.orders ?? [], expiresAt: s.tokens.expiresAt };
  }

  @Post('portal/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Ends the customer portal session' })
  async portalLogout(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: Reply): Promise<void> {
    await this.auth.store.destroy(this.auth.cookieValue(req.headers, PORTAL_COOKIE));
    reply.header('set-cookie', this.auth.cookie(PORTAL_COOKIE, '', 0));
  }

  private async failed(reply: Reply, e: unknown): Promise<void> {
    await reply.redirect(`/?login_error=${e instanceof OidcError ? e.code : 'OIDC_UNAVAILABLE'}`, 302);
  }
}

const publicUser = (u: SessionUser): ConsoleUserDto => ({ subject: u.subject, ...(u.name ? { name: u.name } : {}), roles: u.roles, shops: u.shops });

/** The issuer's redirect back after the login (outside /api/: it is the redirect URI the issuer knows). */
@Public()
@ApiTags('console')
@Controller('auth')
export class AuthCallbackController {
  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(CONSOLE_AUTH) private readonly auth: ConsoleAuth,
  ) {}

  @Get('callback')
  @ApiOperation({ summary: "The issuer's redirect back: exchanges the code (with the PKCE verifier), verifies the tokens, starts the session" })
  @ApiFoundResponse({ description: 'to the page the login started from, or /?login_error=<code>' })
  async callback(@Query() q: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res() reply: Reply): Promise<void> {
    const clearLogin = this.auth.cookie(LOGIN_COOKIE, '', 0, 'Lax', CALLBACK_PATH);
    const state = typeof q.state === 'string' ? q.state : '';
    const bound = this.auth.cookieValue(req.headers, LOGIN_COOKIE);
    const pending = state ? await this.auth.store.takeLogin(state) : undefined;
    reply.header('cache-control', 'no-store');
    if (q.error) {
      reply.header('set-cookie', clearLogin);
      return void (await reply.redirect(`/?login_error=${encodeURIComponent(String(q.error).slice(0, 64))}`, 302));
    }
    if (!pending || bound !== state || typeof q.code !== 'string') {
      reply.header('set-cookie', clearLogin);
      return void (await reply.redirect('/?login_error=LOGIN_STATE_MISMATCH', 302));
    }
    try {
      const { tokens, user } = await this.auth.oidc.exchangeCode({ code: q.code, redirectUri: pending.redirectUri, verifier: pending.verifier, nonce: pending.nonce });
      if (!user.subject) throw new OidcError('OIDC_BAD_TOKEN', 'access token has no sub');
      const old = this.auth.cookieValue(req.headers, STAFF_COOKIE);
      await this.auth.store.destroy(old);
      const s = await this.auth.store.create('staff', user, tokens);
      reply.header('set-cookie', [clearLogin, this.auth.cookie(STAFF_COOKIE, s.id, Math.floor(this.config.sessionMaxAgeMs / 1000))]);
      await reply.redirect(pending.returnTo, 302);
    } catch (e) {
      reply.header('set-cookie', clearLogin);
      await reply.redirect(`/?login_error=${e instanceof OidcError ? e.code : 'OIDC_UNAVAILABLE'}`, 302);
    }
  }

}
