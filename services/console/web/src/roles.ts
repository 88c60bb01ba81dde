/**
 * The console's role table: what each role sees and may do. Plain data (no React), so a unit test
 * can hold it against libs/auth's policy (services/console/src/role-table.spec.ts). The services
 * enforce the same abilities themselves: this table only hides what a role may not do.
 */
export type Role =
  | 'customer_service'
  | 'warehouse'
  | 'finance'
  | 'sales'
  | 'designer'
  | 'cost_accountant'
  | 'general_manager'
  | 'admin'
  | 'integration'
  | 'customer';
export type Screen = 'board' | 'orders' | 'inventory' | 'approvals' | 'warehouse' | 'imports' | 'rules' | 'analytics';
export type Ability =
  | 'order.hold'
  | 'order.cancel'
  | 'order.refund'
  | 'order.resolve'
  | 'order.change'
  /**
   * Let a change request through the freeze after packing (特批, approval's `override` with a reason).
   * Approval takes it from a general manager only (its actor's role; an admin token decides as admin).
   */
  | 'order.override'
  /** Audited reveal of the masked personal data (order-intake `reveal Order`: customer service, admin). */
  | 'order.revealPii'
  | 'stock.adjust'
  | 'approval.decide'
  /** Resubmit an approval returned for changes (approval's `create Approval`: customer service, sales, admin). */
  | 'approval.resubmit'
  | 'pack'
  | 'import'
  | 'rules.edit';


/** What each role sees and may do (the auth contract's roles, as libs/auth's policy grants them). */
export const ROLE_ACCESS: Record<Role, { screens: Screen[]; abilities: Ability[] }> = {
  customer_service: { screens: ['board', 'orders', 'approvals', 'inventory', 'imports'], abilities: ['order.hold', 'order.cancel', 'order.resolve', 'order.change', 'order.revealPii', 'approval.decide', 'approval.resubmit', 'import'] },
  general_manager: { screens: ['board', 'orders', 'approvals', 'inventory', 'rules', 'analytics'], abilities: ['order.hold', 'order.cancel', 'order.resolve', 'order.change', 'order.override', 'approval.decide', 'rules.edit'] },
  warehouse: { screens: ['board', 'approvals', 'warehouse', 'inventory'], abilities: ['pack', 'approval.decide'] },
  finance: { screens: ['board', 'orders', 'approvals', 'analytics'], abilities: ['order.hold', 'order.resolve', 'order.refund', 'approval.decide'] },
  // The custom-order chain's first step (sales_review) is decided by sales (libs/auth policy: approve Approval).
  sales: { screens: ['board', 'orders', 'approvals', 'inventory'], abilities: ['approval.decide', 'approval.resubmit'] },
  designer: { screens: ['board', 'orders', 'approvals'], abilities: ['approval.decide'] },
  cost_accountant: { screens: ['board', 'orders', 'approvals', 'inventory', 'analytics'], abilities: ['approval.decide'] },
  admin: {
    screens: ['board', 'orders', 'inventory', 'approvals', 'warehouse', 'imports', 'rules', 'analytics'],
    abilities: ['order.hold', 'order.cancel', 'order.refund', 'order.resolve', 'order.change', 'order.revealPii', 'stock.adjust', 'approval.decide', 'approval.resubmit', 'pack', 'import', 'rules.edit'],
  },
  // Machine clients and portal customers have no staff screens.
  integration: { screens: [], abilities: [] },
  customer: { screens: [], abilities: [] },
};
