import { can, type Principal, type Role } from '@flowline/auth';
import { describe, expect, it } from 'vitest';
import { ROLE_ACCESS, type Ability } from '../web/src/roles';

/** Console abilities that are one libs/auth permission each: the button shows exactly when the service allows it. */
const SAME_AS_SERVICE: [Ability, Parameters<typeof can>[1], Parameters<typeof can>[2]][] = [
  ['approval.decide', 'approve', 'Approval'],
  ['approval.resubmit', 'create', 'Approval'],
  ['order.refund', 'refund', 'Order'],
  ['order.cancel', 'cancel', 'Order'],
  ['order.revealPii', 'reveal', 'Order'],
];

describe("the console's role table agrees with libs/auth", () => {
  const staff = Object.keys(ROLE_ACCESS).filter((r) => r !== 'integration' && r !== 'customer') as Role[];
  for (const [ability, action, subject] of SAME_AS_SERVICE) {
    it(`${ability} is offered to exactly the roles that may ${action} ${subject}`, () => {
      const principal = (role: Role): Principal => ({ subject: `u-${role}`, issuer: 'test', roles: [role], shops: ['*'] });
      const offered = staff.filter((r) => ROLE_ACCESS[r].abilities.includes(ability));
      const allowed = staff.filter((r) => can(principal(r), action, subject));
      expect(offered.sort()).toEqual(allowed.sort());
    });
  }
});
