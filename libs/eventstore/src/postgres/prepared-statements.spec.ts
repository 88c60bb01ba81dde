import { describe, expect, it } from 'vitest';
import { logPageSql, prepared } from './postgres-event-store';

describe('prepared statements of the PostgreSQL store', () => {
  it('gives one text one stable name, other texts other names, and carries the values', () => {
    const a = prepared(logPageSql('"eventstore"'), [1, 2]);
    const again = prepared(logPageSql('"eventstore"'), [3, 4]);
    const otherSchema = prepared(logPageSql('"other"'), [1, 2]);
    expect(a.name).toMatch(/^flowline_es_[0-9a-f]{24}$/);
    expect(again.name).toBe(a.name);
    expect(again.values).toEqual([3, 4]);
    expect(otherSchema.name).not.toBe(a.name);
    expect(a.text).toBe(logPageSql('"eventstore"'));
    // PostgreSQL truncates identifiers beyond 63 bytes; the name stays well under.
    expect(String(a.name).length).toBeLessThan(63);
  });
});
