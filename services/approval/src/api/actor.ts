import { requirePrincipal, shopFilter, type Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import type { Actor } from '../domain/approval.decider';

/**
 * Who is deciding: the verified token's subject and role (issue #16). X-Actor-Id / X-Actor-Role
 * headers and gRPC `meta.actor` are ignored. The role is the token's first staff role (admin only
 * when it has no other), so a step for customer_service needs a customer-service token.
 */
export function actorFrom(principal: Principal | undefined): Actor {
  if (!principal) throw new DomainError('APPROVAL_ACTOR_REQUIRED', 'who decides: a verified bearer token is required', { fields: ['authorization'] }, 'invalid');
  const roles = principal.allRoles ?? principal.roles;
  const role = roles.find((r) => r !== 'admin') ?? roles[0] ?? '';
  return { id: principal.subject, role };
}

/** The shops of the caller's token, from a request's headers or a call's metadata (ADR 0018): undefined = every shop. */
export function shopsOf(carrier: object): string[] | undefined {
  return shopFilter(requirePrincipal(carrier));
}
