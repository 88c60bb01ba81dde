import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FLOWLINE_CONTRACTS } from '@flowline/contracts';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateAsyncApi } from './asyncapi-validate';

const ROOT = resolve(__dirname, '../../../..');
const SCHEMAS = join(ROOT, 'docs/asyncapi/schemas');
const FIXTURES = join(ROOT, 'libs/contracts/fixtures');
const current = new Map(FLOWLINE_CONTRACTS.map((d) => [d.type, d.schemaVersion]));

const fixtures = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.v\d+\.json$/.test(f))
  .map((f) => {
    const [, type, version] = /([A-Za-z]+)\.v(\d+)\.json$/.exec(f) ?? [];
    return { file: f, type, version: Number(version) };
  })
  .filter((f) => current.get(f.type) === f.version);

const schemaOf = (name: string) => JSON.parse(readFileSync(join(SCHEMAS, `${name}.json`), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
const validatorOf = (name: string) => ajv.getSchema(`urn:flowline:schema:${name}`) ?? ajv.compile(schemaOf(name));

describe('event contracts as JSON Schema (docs/asyncapi/schemas, generated from libs/contracts)', () => {
  it('has a schema for every integration event and command at its current version', () => {
    const files = new Set(readdirSync(SCHEMAS));
    const missing = FLOWLINE_CONTRACTS.filter((d) => !files.has(`${d.type}.v${d.schemaVersion}.json`)).map((d) => d.type);
    expect(missing).toEqual([]);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('fixture %s validates against its schema', (_file, f) => {
    const validate = validatorOf(`${f.type}.v${f.version}`);
    const fixture = JSON.parse(readFileSync(join(FIXTURES, f.file), 'utf8')) as unknown;
    expect(validate(fixture), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('refuses an envelope whose payload breaks its type (a missing field, a wrong type, an unknown field)', () => {
    const validate = validatorOf(`OrderPaid.v${current.get('OrderPaid')}`);
    const good = JSON.parse(readFileSync(join(FIXTURES, 'orders/OrderPaid.v1.json'), 'utf8')) as { data: Record<string, unknown> };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, data: { ...good.data, amount: 'lots' } })).toBe(false);
    const { orderId: _omit, ...noOrder } = good.data;
    expect(validate({ ...good, data: noOrder })).toBe(false);
    expect(validate({ ...good, data: { ...good.data, surprise: 1 } })).toBe(false);
    expect(validate({ ...good, type: 'OrderPlaced' })).toBe(false);
  });
});

describe('AsyncAPI documents (docs/asyncapi/<service>.yaml)', () => {
  const docs = readdirSync(join(ROOT, 'docs/asyncapi')).filter((f) => f.endsWith('.yaml'));

  it.each(docs)('%s validates against the AsyncAPI 3.0.0 schema and lists every message with key, headers and payload', (file) => {
    const doc = parse(readFileSync(join(ROOT, 'docs/asyncapi', file), 'utf8')) as {
      asyncapi: string;
      components: { messages: Record<string, { headers?: unknown; payload?: { $ref: string }; bindings?: { kafka?: { key?: unknown } } }>; schemas: Record<string, unknown> };
    };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(validateAsyncApi(doc)).toEqual([]);
    for (const [name, m] of Object.entries(doc.components.messages)) {
      expect(m.headers, name).toBeDefined();
      expect(m.bindings?.kafka?.key, name).toBeDefined();
      expect(doc.components.schemas[(m.payload?.$ref ?? '').replace('#/components/schemas/', '')], name).toBeDefined();
    }
  });

  it('the validator refuses a document that breaks the AsyncAPI schema', () => {
    expect(validateAsyncApi({ asyncapi: '3.0.0', info: { title: 'x' }, channels: { c: { address: 1 } } })).not.toEqual([]);
  });
});
