import { DomainError } from '@flowline/domain';
import type { Actor } from '../domain/approval.decider';

/**
 * Who is calling. Until authentication lands (#16) the caller says who it is, the way order-intake
 * does: `X-Actor-Id` and `X-Actor-Role` headers (REST) or `meta.actor` (gRPC). The one place to
 * replace with the verified identity.
 */
export function actorFrom(id: string | undefined, role: string | undefined): Actor {
  const actor = { id: (id ?? '').trim(), role: (role ?? '').trim() };
  const problems = [...(actor.id ? [] : ['X-Actor-Id']), ...(actor.role ? [] : ['X-Actor-Role'])];
  if (problems.length) throw new DomainError('APPROVAL_ACTOR_REQUIRED', `who decides: ${problems.join(' and ')} required`, { fields: problems }, 'invalid');
  return actor;
}
