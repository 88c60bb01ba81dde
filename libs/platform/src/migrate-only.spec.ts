import { describe, expect, it } from 'vitest';
import { migrateOnlyRequested } from './migrate-only';

describe('migrateOnlyRequested', () => {
  it('is asked by the `migrate` argument or MIGRATE_ONLY=1/true/yes, and by nothing else', () => {
    expect(migrateOnlyRequested(['node', 'main.js', 'migrate'], {})).toBe(true);
    expect(migrateOnlyRequested(['node', 'main.js'], { MIGRATE_ONLY: '1' })).toBe(true);
    expect(migrateOnlyRequested(['node', 'main.js'], { MIGRATE_ONLY: ' TRUE ' })).toBe(true);
    expect(migrateOnlyRequested(['node', 'main.js'], { MIGRATE_ONLY: '0' })).toBe(false);
    expect(migrateOnlyRequested(['node', 'main.js'], {})).toBe(false);
    // The script's own path is not an argument.
    expect(migrateOnlyRequested(['node', 'migrate'], {})).toBe(false);
  });
});
