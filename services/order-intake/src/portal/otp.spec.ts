import { describe, expect, it } from 'vitest';
import { codeHashOf, customerIdOf, judgeAttempt, newCode, normalizePhone, type CountedChallenge } from './otp';

const secret = 'unit-test-secret';
const now = Date.parse('2026-12-05T00:00:00.000Z');
const challenge = (attempts: number, expiresAt = '2026-12-05T00:05:00.000Z'): CountedChallenge => ({
  customerId: customerIdOf(secret, '13800001234'),
  codeHash: codeHashOf(secret, 'ord-1', '123456'),
  expiresAt,
  attempts,
});
const right = { customerId: customerIdOf(secret, '+86 138-0000-1234'), codeHash: codeHashOf(secret, 'ord-1', '123456') };
const wrong = { ...right, codeHash: codeHashOf(secret, 'ord-1', '654321') };

describe('portal one-time codes', () => {
  it('derives one stable customer id per phone, whatever its formatting, and never the number itself', () => {
    expect(normalizePhone('+86 138-0000-1234')).toBe('13800001234');
    expect(customerIdOf(secret, '13800001234')).toBe(customerIdOf(secret, '+86 13800001234'));
    expect(customerIdOf(secret, '13800001234')).not.toContain('1380000');
    expect(customerIdOf(secret, '13800001234')).not.toBe(customerIdOf('other-secret', '13800001234'));
  });

  it('binds a code hash to its order', () => {
    expect(codeHashOf(secret, 'ord-1', '123456')).not.toBe(codeHashOf(secret, 'ord-2', '123456'));
  });

  it('makes six-digit codes', () => {
    for (let i = 0; i < 50; i++) expect(newCode()).toMatch(/^\d{6}$/);
  });

  it('accepts the right code within the five tries', () => {
    expect(judgeAttempt(challenge(1), right, now, 5)).toEqual({ ok: true });
    expect(judgeAttempt(challenge(5), right, now, 5)).toEqual({ ok: true });
  });

  it('locks on the fifth wrong code and refuses the sixth try even with the right code', () => {
    expect(judgeAttempt(challenge(4), wrong, now, 5)).toEqual({ ok: false, reason: 'wrong', lockNow: false });
    expect(judgeAttempt(challenge(5), wrong, now, 5)).toEqual({ ok: false, reason: 'wrong', lockNow: true });
    expect(judgeAttempt(challenge(6), right, now, 5)).toEqual({ ok: false, reason: 'locked', lockNow: false });
  });

  it('refuses an expired code, a wrong phone and a missing challenge', () => {
    expect(judgeAttempt(challenge(1, '2026-12-04T23:59:59.000Z'), right, now, 5)).toMatchObject({ ok: false, reason: 'expired' });
    expect(judgeAttempt(challenge(1), { ...right, customerId: customerIdOf(secret, '13900000000') }, now, 5)).toMatchObject({ ok: false, reason: 'wrong' });
    expect(judgeAttempt(undefined, right, now, 5)).toMatchObject({ ok: false, reason: 'no_challenge' });
  });
});
