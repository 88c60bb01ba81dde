import { useQuery } from '@tanstack/react-query';
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { ROLE_ACCESS, type Ability, type Role, type Screen } from './roles';

export { ROLE_ACCESS, type Ability, type Role, type Screen } from './roles';

/**
 * Who is using the console, from ONE place: the BFF's staff session (OIDC authorization code +
 * PKCE; the tokens stay in the BFF, the browser holds only an httpOnly SameSite=Strict cookie).
 * The user's roles come from the verified access token; the menu and every action button read the
 * role table (roles.ts) only. The services enforce the same abilities themselves (libs/auth): this table
 * only hides what a role may not do.
 */
export interface SessionUser {
  subject: string;
  name?: string;
  roles: string[];
  shops: string[];
}

const accessOf = (roles: string[]) => {
  const screens = new Set<Screen>();
  const abilities = new Set<Ability>();
  for (const r of roles) {
    const a = ROLE_ACCESS[r as Role];
    if (!a) continue;
    a.screens.forEach((s) => screens.add(s));
    a.abilities.forEach((x) => abilities.add(x));
  }
  return { screens, abilities };
};

export interface Session {
  user: SessionUser;
  can(a: Ability): boolean;
  sees(s: Screen): boolean;
  logout(): Promise<void>;
}

interface SessionAnswer {
  user: SessionUser | null;
  expiresAt: number | null;
}

const Ctx = createContext<Session | null>(null);

/** Where the login starts, coming back to this page afterwards. */
export const loginUrl = (returnTo = `${location.pathname}${location.search}`) => `/api/console/login?returnTo=${encodeURIComponent(returnTo)}`;

/** A staff call answered 401: the session ended (expired, revoked): log in again and come back here. */
export function onUnauthorized(): void {
  if (!location.pathname.startsWith('/portal')) location.assign(loginUrl());
}

export async function logout(): Promise<void> {
  const res = await fetch('/api/console/logout', { method: 'POST' });
  const body = (await res.json().catch(() => ({}))) as { endSessionUrl?: string | null };
  location.assign(body.endSessionUrl ?? '/');
}

/**
 * Renders `children` with the logged-in user, `login` when nobody is logged in, `loading` meanwhile.
 */
export function SessionProvider({ children, login, loading }: { children: ReactNode; login: ReactNode; loading: ReactNode }) {
  const q = useQuery({
    queryKey: ['console-session'],
    queryFn: async () => {
      const res = await fetch('/api/console/session', { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`session ${res.status}`);
      return (await res.json()) as SessionAnswer;
    },
    staleTime: 60_000,
    refetchInterval: 5 * 60_000,
  });
  const user = q.data?.user ?? null;
  const value = useMemo<Session | null>(() => {
    if (!user) return null;
    const access = accessOf(user.roles);
    return { user, can: (a) => access.abilities.has(a), sees: (s) => access.screens.has(s), logout };
  }, [user]);
  if (q.isPending) return <>{loading}</>;
  if (!value) return <>{login}</>;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}
