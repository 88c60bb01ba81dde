import { resolve } from 'node:path';
import { createProjectGraphAsync } from '@nx/devkit';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Proves the architecture rules in eslint.config.mjs bite: each snippet is linted in memory as if it
 * lived at a realistic path, and must be reported (or, for the allowed cases, must not be).
 */
const root = resolve(__dirname, '../../../..');
let eslint: ESLint;

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, filePath) });
  return result.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

beforeAll(async () => {
  // The boundaries rule reads Nx's cached project graph; build it (no daemon) before linting.
  process.env.NX_DAEMON = 'false';
  const cwd = process.cwd();
  process.chdir(root);
  try {
    await createProjectGraphAsync({ exitOnError: false });
  } finally {
    process.chdir(cwd);
  }
  eslint = new ESLint({ cwd: root });
}, 60_000);

describe('module boundaries (Nx tags)', () => {
  it('forbids a service from importing another service', async () => {
    const errors = await ruleIds(
      'services/order-intake/src/app.module.ts',
      "import { reserve } from '../../inventory/src/domain/stock.decider';\nexport const x = reserve;\n",
    );
    expect(errors.join('\n')).toMatch(/@nx\/enforce-module-boundaries: Projects cannot be imported by a relative or absolute path/);
  });

  it('lets a service import the libs through their aliases', async () => {
    const errors = await ruleIds(
      'services/order-intake/src/app.module.ts',
      "import { Topics } from '@flowline/contracts';\nimport { fold } from '@flowline/domain';\nimport { kafkaBrokers } from '@flowline/testing';\nexport const x = [Topics, fold, kafkaBrokers];\n",
    );
    expect(errors).toEqual([]);
  });

  it('forbids libs/contracts from importing any other lib', async () => {
    const errors = await ruleIds(
      'libs/contracts/src/orders/order.events.ts',
      "import { fold } from '@flowline/domain';\nexport const x = fold;\n",
    );
    expect(errors.join('\n')).toMatch(/tagged with "type:contracts" cannot depend on any libs with tags/);
  });

  it('forbids libs/contracts from importing npm packages', async () => {
    const errors = await ruleIds('libs/contracts/src/envelope.ts', "import { ulid } from 'ulid';\nexport const x = ulid;\n");
    expect(errors.join('\n')).toMatch(/tagged with "type:contracts" is not allowed to import "ulid"/);
  });

  it('forbids libs/domain from importing anything but contracts', async () => {
    const errors = await ruleIds(
      'libs/domain/src/decider.ts',
      "import { kafkaBrokers } from '@flowline/messaging';\nimport { Topics } from '@flowline/contracts';\nexport const x = [kafkaBrokers, Topics];\n",
    );
    expect(errors).toHaveLength(1);
    // The tag rule, or (when that lib already depends on domain) the cycle it would close.
    expect(errors[0]).toMatch(/tagged with "scope:domain" can only depend on libs tagged with "type:contracts"|Circular dependency between "domain"/);
  });

  it('forbids a lib from importing a service', async () => {
    const errors = await ruleIds(
      'libs/messaging/src/relay.ts',
      "import { AppModule } from '../../../services/tracking/src/app.module';\nexport const x = AppModule;\n",
    );
    expect(errors.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });
});

describe('pure domain core (services/*/src/domain)', () => {
  const file = 'services/inventory/src/domain/stock.decider.ts';

  it('forbids NestJS, TypeORM, kafkajs and pg imports', async () => {
    const errors = await ruleIds(
      file,
      [
        "import { Injectable } from '@nestjs/common';",
        "import { Entity } from 'typeorm';",
        "import { Kafka } from 'kafkajs';",
        "import { Client } from 'pg';",
        'export const x = [Injectable, Entity, Kafka, Client];',
      ].join('\n'),
    );
    expect(errors.filter((e) => e.startsWith('no-restricted-imports'))).toHaveLength(4);
  });

  it('forbids reading the clock or randomness', async () => {
    const errors = await ruleIds(
      file,
      'export const a = Date.now();\nexport const b = Math.random();\nexport const c = new Date();\n',
    );
    expect(errors.filter((e) => e.startsWith('no-restricted-properties'))).toHaveLength(2);
    expect(errors.filter((e) => e.startsWith('no-restricted-syntax'))).toHaveLength(1);
  });

  it('allows turning a time that came in on the command into a Date', async () => {
    const errors = await ruleIds(
      file,
      "import { DomainError } from '@flowline/domain';\nexport const at = (now: string) => new Date(now).toISOString();\nexport const e = DomainError;\n",
    );
    expect(errors).toEqual([]);
  });
});
