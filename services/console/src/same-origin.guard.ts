import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ConsoleConfig } from './console.config';
import { CONSOLE_CONFIG } from './console.module.tokens';
import { crossSiteRefusal } from './cross-site';

/**
 * The cross-site check of forwarded calls (cross-site.ts) on the console's own state-changing
 * routes too: logout and the portal's session exchange. A form on another port of the same host
 * (same-site, so the SameSite=Strict cookie goes with it) must not end a user's session or start a
 * portal session in the user's browser. Before validation, so a refused request does nothing.
 */
@Injectable()
export class SameOriginGuard implements CanActivate {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const refusal = crossSiteRefusal(req, this.config.publicUrl);
    if (refusal) throw new HttpException({ code: refusal.code, message: refusal.message }, refusal.status);
    return true;
  }
}
