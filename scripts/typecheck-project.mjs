#!/usr/bin/env node
// Type-checks one Nx project (`nx run <project>:typecheck`): a throwaway tsconfig that extends
// tsconfig.base.json and includes only that project's files (libs it imports come in through
// the path aliases). The whole-repo check stays `npm run typecheck`.
import { spawnSync } from 'node:child_process';
import { globSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const projectRoot = process.argv[2];
if (!projectRoot) {
  console.error('usage: typecheck-project.mjs <projectRoot>');
  process.exit(2);
}
if (globSync('**/*.ts', { cwd: join(root, projectRoot) }).length === 0) {
  console.log(`typecheck: ${projectRoot} has no TypeScript sources yet`);
  process.exit(0);
}
const dir = join(root, 'node_modules/.cache/flowline-typecheck');
mkdirSync(dir, { recursive: true });
const config = join(dir, `${projectRoot.replace(/[\\/]/g, '_')}.tsconfig.json`);
writeFileSync(
  config,
  JSON.stringify({
    extends: join(root, 'tsconfig.base.json'),
    compilerOptions: { baseUrl: root },
    // Ambient declarations (*.d.ts) of the libs come along: imports reach lib code, not those.
    include: [join(root, projectRoot, '**/*.ts'), join(root, 'libs/*/src/**/*.d.ts')],
  }),
);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', config, '--noEmit'], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
