// Test suites that import vitest: a separate entry (@flowline/platform/suites) so that services and
// scripts importing @flowline/platform never load the test runner.
export * from './service-boot.suite';
export * from './api-contract.suite';
