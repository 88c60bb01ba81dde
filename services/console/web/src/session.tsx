import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

/**
 * Who is using the console, from ONE place. TEMPORARY until #16 (OIDC): a dev login stub picks a
 * user and role (kept in localStorage); every API call carries them as X-Actor-Id / X-Actor-Role and
 * the BFF passes them on. With #16 this provider becomes the OIDC login and the headers a bearer token.
 */
export type Role = 'customer_service' | 'general_manager' | 'warehouse' | 'finance' | 'admin';
export type Screen = 'board' | 'orders' | 'inventory' | 'approvals' | 'warehouse' | 'imports' | 'rules' | 'analytics';
export type Ability = 'order.hold' | 'order.cancel' | 'order.refund' | 'order.resolve' | 'stock.adjust' | 'approval.decide' | 'pack' | 'import' | 'rules.edit';

export interface DevUser {
  id: string;
  name: { zh: string; en: string };
  role: Role;
}

export const DEV_USERS: DevUser[] = [
  { id: 'cs-wang', name: { zh: '王客服', en: 'Wang (customer service)' }, role: 'customer_service' },
  { id: 'gm-li', name: { zh: '李总经理', en: 'Li (general manager)' }, role: 'general_manager' },
  { id: 'wh-zhao', name: { zh: '赵仓管', en: 'Zhao (warehouse)' }, role: 'warehouse' },
  { id: 'fin-qian', name: { zh: '钱财务', en: 'Qian (finance)' }, role: 'finance' },
  { id: 'admin', name: { zh: '系统管理员', en: 'Admin' }, role: 'admin' },
];

/** What each role sees and may do: the menu and every action button read this table only. */
export const ROLE_ACCESS: Record<Role, { screens: Screen[]; abilities: Ability[] }> = {
  customer_service: { screens: ['board', 'orders', 'inventory'], abilities: ['order.hold', 'order.cancel', 'order.resolve'] },
  general_manager: { screens: ['board', 'orders', 'approvals', 'inventory', 'rules', 'analytics'], abilities: ['order.hold', 'order.cancel', 'order.refund', 'order.resolve', 'approval.decide'] },
  warehouse: { screens: ['board', 'warehouse', 'inventory'], abilities: ['pack', 'stock.adjust'] },
  finance: { screens: ['board', 'orders', 'approvals', 'analytics'], abilities: ['order.refund', 'approval.decide'] },
  admin: {
    screens: ['board', 'orders', 'inventory', 'approvals', 'warehouse', 'imports', 'rules', 'analytics'],
    abilities: ['order.hold', 'order.cancel', 'order.refund', 'order.resolve', 'stock.adjust', 'approval.decide', 'pack', 'import', 'rules.edit'],
  },
};

interface Session {
  user: DevUser;
  setUser(id: string): void;
  can(a: Ability): boolean;
  sees(s: Screen): boolean;
  headers(): Record<string, string>;
}

const Ctx = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [userId, setUserId] = useState(() => localStorage.getItem('flowline.devUser') ?? 'cs-wang');
  const value = useMemo<Session>(() => {
    const user = DEV_USERS.find((u) => u.id === userId) ?? DEV_USERS[0]!;
    const access = ROLE_ACCESS[user.role];
    return {
      user,
      setUser: (id) => {
        localStorage.setItem('flowline.devUser', id);
        setUserId(id);
      },
      can: (a) => access.abilities.includes(a),
      sees: (s) => access.screens.includes(s),
      headers: () => ({ 'X-Actor-Id': user.id, 'X-Actor-Role': user.role }),
    };
  }, [userId]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The current actor for code outside React (the API client middleware). */
export function currentActorHeaders(): Record<string, string> {
  const id = localStorage.getItem('flowline.devUser') ?? 'cs-wang';
  const user = DEV_USERS.find((u) => u.id === id) ?? DEV_USERS[0]!;
  return { 'X-Actor-Id': user.id, 'X-Actor-Role': user.role };
}
