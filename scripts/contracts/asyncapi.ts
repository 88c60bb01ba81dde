// Event contracts as documents: a JSON Schema per integration event and command, generated from
// its TypeScript type (ts-json-schema-generator over libs/contracts), and an AsyncAPI 3.0 document
// per service listing the topics it sends to and receives from, with keys, headers and payloads.
//
//   node -r @swc-node/register scripts/contracts/asyncapi.ts          write docs/asyncapi/
//   ... --check    fail when a committed file differs from a fresh generation or a document does
//                  not validate against the AsyncAPI 3.0.0 JSON Schema (@asyncapi/specs)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FLOWLINE_CONTRACTS, Topics } from '@flowline/contracts';
import { createGenerator } from 'ts-json-schema-generator';
import { stringify } from 'yaml';
import { validateAsyncApi } from '../../libs/platform/src/contracts/asyncapi-validate';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'docs/asyncapi');
const TSCONFIG = join(ROOT, 'tsconfig.base.json');

type Schema = Record<string, unknown> & { definitions?: Record<string, unknown>; properties?: Record<string, unknown> };

/** Which bounded context a service publishes for (analytics only reads; tracking publishes its SLA alerts). */
const CONTEXT_OF_SERVICE: Record<string, string> = {
  'order-intake': 'orders',
  inventory: 'inventory',
  approval: 'approval',
  fulfillment: 'fulfillment',
  notification: 'notification',
  tracking: 'tracking',
};

function generate(path: string, type: string): Schema {
  const schema = createGenerator({ path, tsconfig: TSCONFIG, type, expose: 'export', topRef: true, skipTypeCheck: true, jsDoc: 'extended', additionalProperties: false }).createSchema(type) as Schema;
  return schema;
}

/** `#/definitions/X` refs rewritten for a schema nested under `prefix` (AsyncAPI components). */
function rebase(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rebase(v, from, to));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith(from) ? to + v.slice(from.length) : rebase(v, from, to)]));
  }
  return value;
}

/** One self-contained JSON Schema (draft-07) per contract type at its current version: the envelope with its data. */
function eventSchemas(): Map<string, Schema> {
  const data = generate(join(ROOT, 'libs/contracts/src/registry/flowline-contracts.ts'), 'ContractDataMap');
  const dataMap = data.definitions?.ContractDataMap as Schema;
  const envelope = generate(join(__dirname, 'envelope-root.ts'), 'PublishedEnvelope');
  const envelopeRoot = envelope.definitions?.PublishedEnvelope as Schema;
  const out = new Map<string, Schema>();
  for (const def of [...FLOWLINE_CONTRACTS].sort((a, b) => a.type.localeCompare(b.type))) {
    const payload = dataMap.properties?.[def.type];
    if (!payload) throw new Error(`no data type for ${def.type} in ContractDataMap`);
    const definitions = { ...(envelope.definitions ?? {}), ...(data.definitions ?? {}) };
    delete definitions.PublishedEnvelope;
    delete definitions.ContractDataMap;
    const used = JSON.stringify(payload) + JSON.stringify(envelopeRoot);
    // Keep the definitions this type reaches (transitively).
    const keep = new Set<string>();
    const visit = (text: string) => {
      for (const m of text.matchAll(/#\/definitions\/([A-Za-z0-9_.%<>-]+)/g)) {
        const name = decodeURIComponent(m[1]);
        if (keep.has(name) || !definitions[name]) continue;
        keep.add(name);
        visit(JSON.stringify(definitions[name]));
      }
    };
    visit(used);
    if ('$ref' in envelopeRoot) throw new Error('PublishedEnvelope must generate a plain object schema');
    out.set(`${def.type}.v${def.schemaVersion}`, {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: `urn:flowline:schema:${def.type}.v${def.schemaVersion}`,
      ...envelopeRoot,
      title: `${def.type} v${def.schemaVersion}`,
      description: `${def.kind === 'command' ? 'Command' : 'Integration event'} ${def.type} (context ${def.context}, topic ${def.topic}, key ${def.partitionKey ?? 'orderId'}) in its Flowline envelope. Generated from libs/contracts by scripts/contracts/asyncapi.ts.`,
      properties: {
        ...(envelopeRoot.properties ?? {}),
        type: { type: 'string', const: def.type },
        schemaVersion: { type: 'number', const: def.schemaVersion },
        data: payload,
      },
      definitions: Object.fromEntries([...keep].sort().map((k) => [k, definitions[k]])),
    });
  }
  return out;
}

function topicUse(service: string): { send: string[]; receive: string[] } {
  const names = Object.entries(Topics) as [string, string][];
  const used = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        for (const [key, topic] of names) if (text.includes(`Topics.${key}`)) used.add(topic);
      }
    }
  };
  walk(join(ROOT, 'services', service, 'src'));
  const own = CONTEXT_OF_SERVICE[service];
  const send: string[] = [];
  const receive: string[] = [];
  for (const topic of [...used].sort()) {
    // `<context>.<kind>.v<n>`: commands travel to their context, everything else (events, stock
    // facts) from it.
    const [context, kind] = topic.split('.');
    const mine = context === own;
    if ((kind !== 'commands') === mine) send.push(topic);
    else receive.push(topic);
  }
  return { send, receive };
}

const channelId = (topic: string) => topic.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');

const HEADERS = {
  type: 'object',
  description: "Kafka headers of every message: Flowline's own, W3C trace context and CloudEvents 1.0 (Kafka binding, binary mode).",
  properties: {
    eventId: { type: 'string', description: 'Same as the envelope eventId' },
    type: { type: 'string', description: 'Same as the envelope type' },
    schemaVersion: { type: 'string', description: 'Same as the envelope schemaVersion, as a string' },
    correlationId: { type: 'string' },
    causationId: { type: 'string', description: 'Absent for an origin' },
    traceparent: { type: 'string', description: 'W3C trace context' },
    tracestate: { type: 'string' },
    ce_specversion: { type: 'string', const: '1.0' },
    ce_id: { type: 'string', description: 'The eventId' },
    ce_type: { type: 'string', description: 'flowline.<context>.<Type>.v<schemaVersion>', examples: ['flowline.orders.OrderPlaced.v1'] },
    ce_source: { type: 'string', description: '/flowline/<context>', examples: ['/flowline/orders'] },
    ce_time: { type: 'string', description: 'The occurredAt (ISO-8601)' },
    ce_subject: { type: 'string', description: 'The stream, e.g. order-01J...' },
    'content-type': { type: 'string', const: 'application/json' },
  },
  required: ['eventId', 'type', 'schemaVersion', 'correlationId', 'ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time'],
};

function asyncApiDocument(service: string, schemas: Map<string, Schema>): object | undefined {
  const { send, receive } = topicUse(service);
  if (!send.length && !receive.length) return undefined;
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const componentSchemas: Record<string, unknown> = { KafkaHeaders: HEADERS };
  for (const [action, topics] of [
    ['send', send],
    ['receive', receive],
  ] as const) {
    for (const topic of topics) {
      const id = channelId(topic);
      const defs = FLOWLINE_CONTRACTS.filter((d) => d.topic === topic).sort((a, b) => a.type.localeCompare(b.type));
      const channelMessages: Record<string, unknown> = {};
      for (const def of defs) {
        const name = `${def.type}.v${def.schemaVersion}`;
        const schema = schemas.get(name);
        if (!schema) continue;
        const { $schema: _s, $id: _i, definitions, ...body } = schema;
        for (const [k, v] of Object.entries(definitions ?? {})) componentSchemas[k] = rebase(v, '#/definitions/', '#/components/schemas/');
        componentSchemas[name] = rebase(body, '#/definitions/', '#/components/schemas/');
        messages[def.type] = {
          name: def.type,
          title: `${def.type} v${def.schemaVersion}`,
          summary: `${def.kind === 'command' ? 'Command' : 'Event'} of the ${def.context} context`,
          contentType: 'application/json',
          headers: { $ref: '#/components/schemas/KafkaHeaders' },
          payload: { $ref: `#/components/schemas/${name}` },
          correlationId: { location: '$message.payload#/correlationId' },
          bindings: { kafka: { key: { type: 'string', description: `The ${def.partitionKey ?? 'orderId'} of the payload` }, bindingVersion: '0.5.0' } },
        };
        channelMessages[def.type] = { $ref: `#/components/messages/${def.type}` };
      }
      channels[id] = {
        address: topic,
        title: topic,
        description: `Kafka topic ${topic} (a test run prefixes it: KAFKA_TOPIC_PREFIX). Keyed by order id unless a message says otherwise; partitions keep one key's messages in order.`,
        messages: channelMessages,
      };
      operations[`${action}${id[0].toUpperCase()}${id.slice(1)}`] = {
        action,
        channel: { $ref: `#/channels/${id}` },
        summary: `${service} ${action === 'send' ? 'publishes to' : 'consumes'} ${topic}`,
        messages: Object.keys(channelMessages).map((m) => ({ $ref: `#/channels/${id}/messages/${m}` })),
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: `Flowline ${service} messaging`,
      version: '1.0.0',
      description: `Kafka topics ${service} sends to and receives from, with every message's key, headers and payload (JSON Schemas generated from libs/contracts; one file per type in docs/asyncapi/schemas). Generated by scripts/contracts/asyncapi.ts; versioning in docs/adr/0009-api-contracts.md.`,
    },
    defaultContentType: 'application/json',
    servers: { kafka: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'Local broker (KAFKA_BROKERS)' } },
    channels,
    operations,
    components: { schemas: Object.fromEntries(Object.entries(componentSchemas).sort(([a], [b]) => a.localeCompare(b))), messages: Object.fromEntries(Object.entries(messages).sort(([a], [b]) => a.localeCompare(b))) },
  };
}

function main(): void {
  const check = process.argv.includes('--check');
  const schemas = eventSchemas();
  const files = new Map<string, string>();
  for (const [name, schema] of schemas) files.set(join(OUT, 'schemas', `${name}.json`), `${JSON.stringify(schema, null, 2)}\n`);
  const services = readdirSync(join(ROOT, 'services'))
    .filter((s) => existsSync(join(ROOT, 'services', s, 'src')))
    .sort();
  const docs = new Map<string, object>();
  for (const service of services) {
    const doc = asyncApiDocument(service, schemas);
    if (!doc) continue;
    docs.set(service, doc);
    files.set(join(OUT, `${service}.yaml`), `# Generated by scripts/contracts/asyncapi.ts (npm run contracts:gen). DO NOT EDIT.\n${stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 })}`);
  }
  let failed = false;
  for (const [service, doc] of docs) {
    const errors = validateAsyncApi(doc);
    if (errors.length) {
      failed = true;
      console.error(`asyncapi: docs/asyncapi/${service}.yaml does not validate against AsyncAPI 3.0.0:\n  ${errors.join('\n  ')}`);
    }
  }
  if (check) {
    for (const [path, text] of files) {
      if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
        console.error(`asyncapi: ${path.slice(ROOT.length + 1)} is ${existsSync(path) ? 'stale' : 'missing'}; run npm run contracts:gen and commit`);
        failed = true;
      }
    }
    if (!failed) console.log(`asyncapi: ${docs.size} documents and ${schemas.size} schemas up to date and valid`);
    process.exit(failed ? 1 : 0);
  }
  rmSync(join(OUT, 'schemas'), { recursive: true, force: true });
  for (const [path, text] of files) {
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  console.log(`asyncapi: wrote ${docs.size} documents and ${schemas.size} schemas to docs/asyncapi`);
  process.exit(failed ? 1 : 0);
}

main();
