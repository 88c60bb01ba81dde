import { migrationChecksum } from '@flowline/platform';
import { describe, expect, it } from 'vitest';
import { TRACKING_SCHEMA, trackingMigrations, trackingSchemaDdl } from './tracking-schema';

// Released migrations are frozen: databases record each one's checksum and refuse to start when
// the code's differs. Change the tables with a new migration, never by editing one below.
const RELEASED: Record<number, string> = {
  1: 'cf4d1ad5f37686deeed04d9e4fb27b8d9dba5b2f717add8002f25ee17a114025',
  3: '8f09c20ed38752ee40e015250c687ee364c6c56099f02a30bff70fc05952423c',
  4: 'd97d98123be462ddf0ea83676a44c10f4c6891613c23e3bc0286e19285000d43',
};

describe('tracking migrations', () => {
  it('released migrations keep their checksums (add a migration instead of editing one)', () => {
    for (const m of trackingMigrations(TRACKING_SCHEMA)) if (RELEASED[m.version]) expect(migrationChecksum(m), `v${m.version} ${m.name}`).toBe(RELEASED[m.version]);
  });

  it('numbers them 1..n and builds a rebuild schema from the same statements', () => {
    const ms = trackingMigrations('tracking_rb_x');
    expect(ms.map((m) => m.version)).toEqual(ms.map((_, i) => i + 1));
    expect(trackingSchemaDdl('tracking_rb_x')).toEqual(ms.flatMap((m) => m.statements));
    expect(trackingSchemaDdl('tracking_rb_x').join('\n')).not.toContain('"tracking".');
  });
});
