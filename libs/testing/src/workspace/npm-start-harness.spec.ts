import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, portOffsetCandidates } from './npm-start-harness';

const SERVICES = Object.keys(DEFAULT_PORTS);

describe('port offsets for a second system', () => {
  it("puts every port outside Linux's default ephemeral range, so no outgoing connection can hold one", () => {
    const offsets = portOffsetCandidates(SERVICES, [32768, 60999]);
    expect(offsets.length).toBeGreaterThan(300);
    for (const offset of offsets) {
      expect(offset % 10).toBe(0);
      expect(offset).toBeLessThanOrEqual(15_000); // scripts/start.ts' limit
      for (const s of SERVICES) {
        for (const port of [DEFAULT_PORTS[s].http + offset, DEFAULT_PORTS[s].grpc + offset]) {
          expect(port < 32768 || (port > 60999 && port <= 65535), `${s} port ${port} at offset ${offset}`).toBe(true);
        }
      }
    }
  });

  it('falls back to any offset whose ports exist when the ephemeral range covers them all', () => {
    const offsets = portOffsetCandidates(SERVICES, [1024, 65535]);
    expect(offsets[0]).toBe(1000);
    expect(Math.max(...offsets.map((o) => DEFAULT_PORTS.console.grpc + o))).toBeLessThanOrEqual(65535);
  });
});
