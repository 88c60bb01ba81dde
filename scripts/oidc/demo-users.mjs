// Demo users of the local issuer: one per role (password `demo`), plus shop-scoped ones.
// Shared by the issuer and the tests' token helper (libs/testing/src/auth.ts).

/** The audience every Flowline service expects in `aud` (OIDC_AUDIENCE). */
export const AUDIENCE = 'flowline';
/** The resource indicator (RFC 8707) that yields the `flowline` audience. */
export const RESOURCE = 'urn:flowline:api';

export const ALL_ROLES = [
  'customer_service', 'warehouse', 'finance', 'sales', 'designer', 'cost_accountant', 'general_manager', 'admin', 'integration', 'customer',
];

export const SERVICE_NAMES = ['order-intake', 'inventory', 'approval', 'fulfillment', 'notification', 'tracking', 'channel-gateway', 'analytics', 'console'];

/** sub = username. `shops` absent = all shops. */
export const DEMO_USERS = [
  { sub: 'cs', name: '客服 王芳', roles: ['customer_service'] },
  { sub: 'warehouse', name: '仓库 李强', roles: ['warehouse'] },
  { sub: 'finance', name: '财务 陈静', roles: ['finance'] },
  { sub: 'sales', name: '销售 赵磊', roles: ['sales'] },
  { sub: 'designer', name: '设计 孙悦', roles: ['designer'] },
  { sub: 'cost', name: '成本 周敏', roles: ['cost_accountant'] },
  { sub: 'gm', name: '总经理 吴总', roles: ['general_manager'] },
  { sub: 'admin', name: '管理员', roles: ['admin'] },
  { sub: 'integration', name: '集成 connector', roles: ['integration'] },
  { sub: 'customer', name: '顾客', roles: ['customer'] },
  { sub: 'cs-jd', name: '京东客服 刘洋', roles: ['customer_service'], shops: ['jd-self-run', 'jd-flagship'] },
  { sub: 'cs-taobao', name: '淘宝客服 黄丽', roles: ['customer_service'], shops: ['taobao-xihu-tea-house', 'tmall-flagship'] },
];
