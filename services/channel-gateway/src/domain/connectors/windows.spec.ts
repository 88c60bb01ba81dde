import { describe, expect, it } from 'vitest';
import { nextWindow } from './windows';

describe('incremental pull windows per platform', () => {
  it('Taobao: at most one day', () => {
    expect(nextWindow('taobao', '2025-11-20T00:00:00.000Z', '2025-11-25T00:00:00.000Z')).toEqual({ start: '2025-11-20T00:00:00.000Z', end: '2025-11-21T00:00:00.000Z' });
  });

  it('Pinduoduo: at most 30 minutes, ending at least 3 minutes behind the platform clock', () => {
    expect(nextWindow('pinduoduo', '2025-11-25T10:00:00.000Z', '2025-11-25T12:00:00.000Z')).toEqual({ start: '2025-11-25T10:00:00.000Z', end: '2025-11-25T10:30:00.000Z' });
    expect(nextWindow('pinduoduo', '2025-11-25T11:50:00.000Z', '2025-11-25T12:00:00.000Z')).toEqual({ start: '2025-11-25T11:50:00.000Z', end: '2025-11-25T11:57:00.000Z' });
    expect(nextWindow('pinduoduo', '2025-11-25T11:57:00.000Z', '2025-11-25T12:00:00.000Z')).toBeNull();
  });

  it('JD: at most 30 days; Douyin: at most 90 days', () => {
    expect(nextWindow('jd', '2025-01-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z')?.end).toBe('2025-01-31T00:00:00.000Z');
    expect(nextWindow('douyin', '2025-01-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z')?.end).toBe('2025-04-01T00:00:00.000Z');
    expect(nextWindow('douyin', '2025-11-30T00:00:00.000Z', '2025-12-01T00:00:00.000Z')?.end).toBe('2025-12-01T00:00:00.000Z');
  });
});
