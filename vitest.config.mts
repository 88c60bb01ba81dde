import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
/** Integration files run alone, after the rest (see the project 'integration-alone'). */
const ALONE = ['services/order-intake/test/scale-out-system.e2e-spec.ts'];
const lib = (name: string) => resolve(root, `libs/${name}/src/index.ts`);

export default defineConfig({
  // SWC keeps decorator metadata, which NestJS dependency injection needs (esbuild drops it).
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@flowline/auth': lib('auth'),
      '@flowline/clients': lib('clients'),
      '@flowline/contracts': lib('contracts'),
      '@flowline/domain': lib('domain'),
      '@flowline/eventstore': lib('eventstore'),
      '@flowline/imports': lib('imports'),
      '@flowline/messaging': lib('messaging'),
      '@flowline/observability': lib('observability'),
      '@flowline/platform/suites': resolve(root, 'libs/platform/src/testing/suites.ts'),
      '@flowline/platform': lib('platform'),

      '@flowline/testing': lib('testing'),
    },
  },
  test: {
    reporters: ['default', resolve(root, 'libs/testing/src/summary-reporter.ts')],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['{libs,services,bench}/**/*.spec.{ts,tsx}'], testTimeout: 10_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{libs,services}/**/*.int-spec.ts', '{libs,services}/**/*.e2e-spec.ts'],
          exclude: [...ALONE, '**/node_modules/**'],
          globalSetup: [resolve(root, 'libs/testing/src/global-setup.ts')],
          // Requests to local services carry the demo admin's token from the real issuer unless a
          // test sets Authorization itself (libs/testing/src/auth-setup.ts).
          setupFiles: [resolve(root, 'libs/testing/src/auth-setup.ts')],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: at most two integration files at once, each with its own database and topics.
          maxWorkers: 2,
          minWorkers: 1,
        },
      },
      {
        extends: true,
        test: {
          // Files that start a whole system several times over (~90 PostgreSQL connections of the
          // default 100, most of both cores): alone, after every other file finished.
          name: 'integration-alone',
          include: ALONE,
          globalSetup: [resolve(root, 'libs/testing/src/global-setup.ts')],
          setupFiles: [resolve(root, 'libs/testing/src/auth-setup.ts')],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          minWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
