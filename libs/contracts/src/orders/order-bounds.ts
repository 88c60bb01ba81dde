/**
 * Bounds of an order's values, the same wherever an order or a change to it is taken (order-intake
 * places it, approval files a change request against it): a change request cannot carry what the
 * order itself would refuse.
 */

/** Largest amount accepted in one field, in fen (¥1,000,000,000.00): keeps sums exact integers. */
export const MAX_FEN = 100_000_000_000;

/** Most units on one order line. */
export const MAX_LINE_QUANTITY = 100_000;

/** A phone number in clear text: digits, an optional leading +, spaces or dashes; 5-20 characters. */
export const CLEAR_PHONE = /^\+?[0-9 -]{5,20}$/;
