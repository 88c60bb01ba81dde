/**
 * What goes upstream with a forwarded call: the ONE place the console decides it. The services
 * verify the bearer token themselves (libs/auth); the BFF only attaches the session's access token
 * and drops what the browser must not pass on (its cookies, any actor headers, any Authorization it
 * made up: a page script never holds a token).
 */
export function upstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
  bearer: string | undefined,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = { ...headers };
  delete out['x-actor-id'];
  delete out['x-actor-role'];
  delete out['x-flowline-portal'];
  delete out.cookie;
  delete out.authorization;
  if (bearer) out.authorization = `Bearer ${bearer}`;
  return out;
}
