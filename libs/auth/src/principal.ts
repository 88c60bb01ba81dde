import type { Actor } from '@flowline/contracts';

/** The roles of DOMAIN.md plus admin, integration (connectors, MES, services) and customer. */
export const ROLES = [
  'customer_service',
  'warehouse',
  'finance',
  'sales',
  'designer',
  'cost_accountant',
  'general_manager',
  'admin',
  'integration',
  'customer',
] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/** Who is calling, from a verified access token. */
export interface Principal {
  /** `sub`: the user, the customer, or the service client. */
  subject: string;
  /** Known roles from the `roles` claim (unknown ones are dropped). */
  roles: Role[];
  /** Shop ids the principal may see; `['*']` = every shop. */
  shops: string[];
  /** `client_id` / `azp`: the OAuth client the token was issued to. */
  clientId?: string;
  /** `name` (display). */
  name?: string;
  /** Customer tokens: the order ids the customer proved ownership of. */
  orders?: string[];
  /** `iss`. */
  issuer: string;
  /**
   * Every string of the `roles` claim in the token's order, including organisation roles Flowline's
   * policy does not know (an approval chain's `board`); approval matches steps against these.
   */
  allRoles?: string[];
}

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : typeof value === 'string' && value ? value.split(' ') : undefined;

/** The principal of a verified JWT payload (claims of the auth contract). */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const raw = strings(claims.roles) ?? [];
  const roles = raw.filter(isRole);
  const shops = strings(claims.shops);
  const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
  const orders = strings(claims.orders);
  return {
    subject: String(claims.sub ?? ''),
    roles,
    shops: shops && shops.length ? shops : ['*'],
    ...(clientId ? { clientId } : {}),
    ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
    ...(orders ? { orders } : {}),
    issuer: String(claims.iss ?? ''),
    ...(raw.some((r) => !isRole(r)) ? { allRoles: raw } : {}),
  };
}

/** True when the token was issued to a service (client credentials: the subject is the client). */
export const isServicePrincipal = (p: Principal): boolean => p.roles.includes('integration') && !!p.clientId && p.clientId === p.subject;

/**
 * The event actor of a principal: who did it is the token's subject, never a header. A service
 * client is `service`, a customer `customer`, staff `user`; the role is the first (most specific)
 * role, and the client id travels along for the audit trail.
 */
export function actorFromPrincipal(p: Principal): Actor {
  const kind: Actor['kind'] = isServicePrincipal(p) ? 'service' : p.roles.includes('customer') ? 'customer' : 'user';
  const role = kind === 'service' ? 'integration' : (p.roles.find((r) => r !== 'customer') ?? p.roles[0]);
  return {
    kind,
    id: p.subject,
    ...(role ? { role } : {}),
    ...(p.name ? { name: p.name } : {}),
    ...(p.clientId ? { clientId: p.clientId } : {}),
  };
}
