import createClient, { type Client, type Middleware } from 'openapi-fetch';
// Types only: generated from the services' OpenAPI (docs/openapi/*.json) by #11's openapi-typescript
// step into libs/clients; the web app takes the types and builds its own openapi-fetch clients (the
// lib's index also exports Node gRPC clients, which must not enter a browser bundle).
import type { paths as AnalyticsPaths } from '@flowline/openapi/analytics';
import type { paths as ApprovalPaths } from '@flowline/openapi/approval';
import type { paths as GatewayPaths } from '@flowline/openapi/channel-gateway';
import type { paths as FulfillmentPaths } from '@flowline/openapi/fulfillment';
import type { paths as InventoryPaths } from '@flowline/openapi/inventory';
import type { components as IntakeComponents, paths as IntakePaths } from '@flowline/openapi/order-intake';
import type { paths as NotificationPaths } from '@flowline/openapi/notification';
import type { paths as TrackingPaths } from '@flowline/openapi/tracking';
import type { Problem } from './i18n';
import { onUnauthorized } from './session';

/**
 * The typed clients (generated from the services' OpenAPI by libs/clients), pointed at the BFF:
 * /api/<service> + the service's own path. The page holds no token: the BFF adds the session's
 * bearer token from the httpOnly cookie. A 401 means the session ended: log in again.
 */
const staff: Middleware = {
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
};
const client = <P extends object>(baseUrl: string): Client<P> => {
  const c = createClient<P>({ baseUrl });
  c.use(staff);
  return c;
};

/** The customer portal's calls: the BFF forwards the customer's token (its own cookie), never a staff one. */
const portalHeader: Middleware = {
  onRequest({ request }) {
    request.headers.set('x-flowline-portal', '1');
    return request;
  },
};
const portalClient = <P extends object>(baseUrl: string): Client<P> => {
  const c = createClient<P>({ baseUrl });
  c.use(portalHeader);
  return c;
};

export const api = {
  intake: client<IntakePaths>('/api/order-intake'),
  inventory: client<InventoryPaths>('/api/inventory'),
  tracking: client<TrackingPaths>('/api/tracking'),
  approval: client<ApprovalPaths>('/api/approval'),
  fulfillment: client<FulfillmentPaths>('/api/fulfillment'),
  gateway: client<GatewayPaths>('/api/channel-gateway'),
  analytics: client<AnalyticsPaths>('/api/analytics'),
  notification: client<NotificationPaths>('/api/notification'),
};

export const portalApi = {
  intake: portalClient<IntakePaths>('/api/order-intake'),
  tracking: portalClient<TrackingPaths>('/api/tracking'),
  fulfillment: portalClient<FulfillmentPaths>('/api/fulfillment'),
  approval: portalClient<ApprovalPaths>('/api/approval'),
};

export type OrderView = IntakeComponents['schemas']['OrderViewDto'];

/** The problem an error response carries (RFC 9457 / the platform's error body), normalised for the UI. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

export function toProblem(status: number, body: unknown): Problem {
  const b = (body ?? {}) as { code?: string; message?: string; detail?: string; details?: Record<string, unknown>; errors?: { field?: string }[] };
  const code = b.code ?? (status >= 502 ? 'SERVICE_UNAVAILABLE' : `HTTP_${status}`);
  return {
    status,
    code,
    message: b.message ?? b.detail ?? `HTTP ${status}`,
    ...(b.details ? { params: b.details } : {}),
    ...(b.errors ? { fields: b.errors.map((e) => e.field ?? '?') } : {}),
  };
}

/** Unwraps an openapi-fetch result: the data, or a ProblemError the screens render in the user's language. */
export async function unwrap<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (error !== undefined || !response.ok) throw new ProblemError(toProblem(response.status, error));
  return data as T;
}

/** One key per user action: a retry of the same action (same key) is applied once by the service. */
export const newIdempotencyKey = () => `console-${crypto.randomUUID()}`;

/** For APIs whose OpenAPI documents no response schema yet (tracking's views): the caller names the type (from @flowline/contracts). */
export function unwrapAs<T>(p: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  return unwrap(p) as Promise<T>;
}
