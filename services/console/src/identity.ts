/**
 * Who is calling: the ONE place the console decides the acting user. TEMPORARY until #16 lands:
 * the web app's dev login stub sends X-Actor-Id / X-Actor-Role and they are passed on as is (the
 * services read the same headers today). With #16 this becomes: verify the OIDC access token,
 * take the subject and role from its claims, and overwrite whatever the browser sent.
 */
export interface ConsoleActor {
  id: string;
  role: string;
}

const ID = /^[A-Za-z0-9._@-]{1,64}$/;

export function actorFrom(headers: Record<string, string | string[] | undefined>, devLogin: boolean): ConsoleActor | null {
  if (!devLogin) return null;
  const id = one(headers['x-actor-id']);
  const role = one(headers['x-actor-role']);
  if (!id || !role || !ID.test(id) || !ID.test(role)) return null;
  return { id, role };
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The headers sent upstream: the browser's own actor headers are dropped and the resolved actor set. */
export function upstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
  actor: ConsoleActor | null,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = { ...headers };
  delete out['x-actor-id'];
  delete out['x-actor-role'];
  delete out.cookie;
  if (actor) {
    out['x-actor-id'] = actor.id;
    out['x-actor-role'] = actor.role;
  }
  return out;
}
