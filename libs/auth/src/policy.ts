import { AbilityBuilder, createMongoAbility, subject as asSubject, type MongoAbility } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import type { Principal, Role } from './principal';

/** What a caller may do (CASL actions). `manage` = every action. */
export const ACTIONS = ['read', 'create', 'update', 'cancel', 'refund', 'approve', 'pack', 'ship', 'adjust', 'override', 'reveal', 'admin', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];
/** What it is done to (CASL subjects). `all` = every subject. */
export const SUBJECTS = ['Order', 'Stock', 'Approval', 'ChangeRequest', 'Shipment', 'Notification', 'Import', 'Analytics', 'Rules', 'Admin', 'all'] as const;
export type Subject = (typeof SUBJECTS)[number];

export type FlowlineAbility = MongoAbility<[Action, Subject | Record<string, unknown>]>;
type Builder = AbilityBuilder<FlowlineAbility>;

/**
 * Fields of an order that only roles dealing with money see (field-level rule): order-intake's
 * view names the payment `payment` (amount, payment reference), tracking's `paidAmount` and
 * `refundedAmount`. The order's totals stay visible (a cash-on-delivery parcel needs them), and so
 * does order-intake's `refund`: its `pending` is the warehouse's "refund asked, do not pack".
 */
export const ORDER_MONEY_FIELDS = ['payment', 'payments', 'refunds', 'paidAmount', 'refundedAmount', 'paymentMethod', 'presale'];

/**
 * One ability definition per role (DOMAIN.md + admin, integration, customer). Read is type-level
 * for staff; rows are further limited by shop (scope.ts), customers by the orders in their token.
 */
const ROLE_RULES: Record<Role, (b: Builder, p: Principal) => void> = {
  admin: ({ can }) => {
    can('manage', 'all');
  },
  // Channel connectors, MES, and Flowline's own services (client credentials).
  integration: ({ can }) => {
    can('read', ['Order', 'Stock', 'Shipment', 'Approval', 'ChangeRequest', 'Notification', 'Import', 'Analytics']);
    can(['create', 'update', 'cancel', 'refund'], 'Order');
    can(['update', 'pack', 'ship'], 'Shipment');
    can('update', 'Stock');
    can(['create', 'update'], ['Import', 'Notification', 'Approval', 'ChangeRequest']);
  },
  customer_service: ({ can }) => {
    can('read', ['Order', 'Stock', 'Shipment', 'Approval', 'ChangeRequest', 'Notification', 'Import', 'Rules']);
    can(['create', 'update', 'cancel'], 'Order');
    // Audited reveal of the receiver's name, phone and street (customer calls, address checks). Not
    // warehouse (the parcel's address reaches it through fulfillment), not finance (no address).
    can('reveal', 'Order');
    can(['create', 'update'], ['ChangeRequest', 'Import', 'Notification']);
    can('create', 'Approval');
    can('update', 'Shipment');
    can('approve', ['Approval', 'ChangeRequest']);
  },
  warehouse: ({ can, cannot }) => {
    can('read', ['Order', 'Stock', 'Shipment', 'Approval', 'ChangeRequest', 'Notification', 'Rules']);
    cannot('read', 'Order', ORDER_MONEY_FIELDS);
    can(['pack', 'ship'], ['Order', 'Shipment']);
    can('update', ['Shipment', 'Stock']);
    can('approve', ['Approval', 'ChangeRequest']);
  },
  finance: ({ can }) => {
    can('read', ['Order', 'Stock', 'Shipment', 'Approval', 'ChangeRequest', 'Notification', 'Import', 'Analytics', 'Rules']);
    can(['update', 'refund'], 'Order');
    can('create', 'Import');
    can('approve', ['Approval', 'ChangeRequest']);
  },
  sales: ({ can }) => {
    can('read', ['Order', 'Stock', 'Approval', 'Notification', 'Rules']);
    can('create', ['Order', 'Approval']);
    // The custom-order chain's first step (sales_review, role sales) is decided by sales.
    can('approve', 'Approval');
  },
  designer: ({ can }) => {
    can('read', ['Order', 'Approval', 'Notification', 'Rules']);
    can('approve', 'Approval');
  },
  cost_accountant: ({ can }) => {
    can('read', ['Order', 'Stock', 'Approval', 'Notification', 'Analytics', 'Rules']);
    can('approve', 'Approval');
  },
  general_manager: ({ can }) => {
    can('read', ['Order', 'Stock', 'Shipment', 'Approval', 'ChangeRequest', 'Notification', 'Import', 'Analytics', 'Rules']);
    can('approve', ['Approval', 'ChangeRequest']);
    can('create', 'ChangeRequest');
    can(['update', 'cancel', 'override'], 'Order');
    // "Manage rules" (issue #17): flow rules and approval chains are edited by admin and the general manager.
    can('update', 'Rules');
  },
  // Portal customers: only the orders their token names, and only to look and to ask.
  customer: ({ can }, p) => {
    const own = { orderId: { $in: p.orders ?? [] } };
    can('read', 'Order', own);
    can('read', 'Shipment', own);
    can('cancel', 'Order', own);
    can('create', 'ChangeRequest', own);
  },
};

/** Abilities of frozen principals (the verifier's, shared by every request with that token): built once each. */
const ABILITIES = new WeakMap<Principal, FlowlineAbility>();

/** The CASL ability of a principal: the union of its roles' rules. */
export function abilityFor(principal: Principal): FlowlineAbility {
  const known = ABILITIES.get(principal);
  if (known) return known;
  const builder = new AbilityBuilder<FlowlineAbility>(createMongoAbility);
  // Buyer rules belong to customer-only tokens (the portal's): on a staff token they would widen the
  // staff role at type level (a sales token with `customer` passing `read Shipment`).
  const staff = principal.roles.some((r) => r !== 'customer');
  for (const role of principal.roles) if (!(staff && role === 'customer')) ROLE_RULES[role](builder, principal);
  const ability = builder.build();
  // Only a frozen principal cannot change under its cached ability.
  if (Object.isFrozen(principal)) ABILITIES.set(principal, ability);
  return ability;
}

/** Type-level check (`can this principal ever refund an Order?`): what `@Requires` asks. */
export function can(principal: Principal, action: Action, subjectType: Subject): boolean {
  return abilityFor(principal).can(action, subjectType);
}

/** Row-level check for a customer's conditions (`{ orderId }`), e.g. may this customer read order X. */
export function canOn(principal: Principal, action: Action, subjectType: Exclude<Subject, 'all'>, row: Record<string, unknown>): boolean {
  return abilityFor(principal).can(action, asSubject(subjectType, { ...row }));
}

/** Field-level check: may the principal read `field` of a `subjectType` (e.g. an Order's payments)? */
export function canReadField(principal: Principal, subjectType: Exclude<Subject, 'all'>, field: string): boolean {
  return abilityFor(principal).can('read', subjectType, field);
}

/**
 * Field-level rule: a copy of `view` without the top-level fields the principal may not read
 * (a warehouse token gets an order without payments and refunds).
 */
export function redactFields<T extends Record<string, unknown>>(principal: Principal, subjectType: Exclude<Subject, 'all'>, view: T): Partial<T> {
  const ability = abilityFor(principal);
  const fields = Object.keys(view);
  const allowed = new Set(permittedFieldsOf(ability, 'read', asSubject(subjectType, { ...view }), { fieldsFrom: (rule) => rule.fields ?? fields }));
  return Object.fromEntries(Object.entries(view).filter(([k]) => allowed.has(k))) as Partial<T>;
}
