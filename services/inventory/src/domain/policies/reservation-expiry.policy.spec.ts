import { describe, expect, it } from 'vitest';
import { dueExpiries, expiryAfter, isDue, nextExpiry } from './reservation-expiry.policy';

describe('reservation expiry', () => {
  const rs = [
    { orderId: 'late', status: 'reserved', expiresAt: '2026-05-01T11:00:00.000Z' },
    { orderId: 'early', status: 'reserved', expiresAt: '2026-05-01T10:00:00.000Z' },
    { orderId: 'paid', status: 'reserved' },
    { orderId: 'gone', status: 'released', expiresAt: '2026-05-01T09:00:00.000Z' },
  ];

  it('lists open holds whose time has come, earliest first', () => {
    expect(dueExpiries(rs, '2026-05-01T12:00:00.000Z')).toEqual(['early', 'late']);
    expect(dueExpiries(rs, '2026-05-01T10:00:00.000Z')).toEqual(['early']);
    expect(dueExpiries(rs, '2026-05-01T09:59:59.999Z')).toEqual([]);
  });

  it('compares instants, not strings, across time zone offsets', () => {
    expect(isDue('2026-05-01T18:00:00+08:00', '2026-05-01T10:00:00.000Z')).toBe(true);
  });

  it('says when the next hold falls due', () => {
    expect(nextExpiry(rs)).toBe('2026-05-01T10:00:00.000Z');
    expect(nextExpiry([])).toBeUndefined();
  });

  it('computes a hold period from the edge time', () => {
    expect(expiryAfter('2026-05-01T10:00:00.000Z', 30)).toBe('2026-05-01T10:30:00.000Z');
  });
});
