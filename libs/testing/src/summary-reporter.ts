import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

/**
 * Prints one plain closing line, `vitest: N passed, N failed, N skipped`, so CI and people
 * reading a log see the outcome without parsing Vitest's coloured summary.
 *
 * A file whose hooks failed (e.g. beforeAll could not start a service) reports its tests as
 * skipped; such a file counts as one failure, and so does every unhandled error, so the line
 * never says "0 failed" for a red run.
 *
 * Before it, the slowest files (SLOWEST_FILES, default 15; 0 for none) with their wall time, so a CI
 * log shows where its time budget goes.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError> = [],
    reason?: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      if (failedHere === 0 && m.state() === 'failed') failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    const slowest = Number(process.env.SLOWEST_FILES ?? 15);
    if (slowest > 0 && testModules.length > 1) {
      const timed = testModules
        .map((m) => ({ file: m.relativeModuleId, project: m.project.name, ms: m.diagnostic().duration }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, slowest);
      process.stdout.write(`\nslowest files:\n${timed.map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.project.padEnd(17)} ${t.file}`).join('\n')}\n`);
    }
    if (failed === 0 && reason === 'failed') failed = 1;
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
