/**
 * Breaking changes between two OpenAPI 3 documents of one service, from a client's point of view
 * (the rules oasdiff and Optic apply, narrowed to what NestJS documents emit):
 *
 * - an operation or path removed;
 * - a success response (2xx) removed, or a property a client could read removed from its schema,
 *   or its type changed;
 * - a request parameter or body property added as required, an optional one made required, a
 *   query parameter or body property removed (a client sending it would be refused: whitelist), its
 *   type changed, or an enum value it could send removed. A removed *header* parameter is not
 *   breaking: the server ignores headers it does not read (no whitelist on headers), so a client that
 *   still sends it keeps working (e.g. X-Actor-Id once the actor comes from the verified token).
 *
 * A breaking change is allowed only when the document's major version grows (`info.version`);
 * docs/adr/0009-api-contracts.md has the policy.
 */

type Json = Record<string, unknown>;
type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  allOf?: Schema[];
  nullable?: boolean;
};

interface Doc {
  info?: { version?: string };
  paths?: Record<string, Record<string, Json>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function resolver(doc: Doc) {
  const resolve = (s: Schema | undefined, depth = 0): Schema | undefined => {
    if (!s || depth > 20) return s;
    if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')], depth + 1);
    if (s.allOf?.length) {
      const parts = s.allOf.map((p) => resolve(p, depth + 1) ?? {});
      return {
        type: 'object',
        properties: Object.assign({}, ...parts.map((p) => p.properties ?? {}), s.properties ?? {}),
        required: [...parts.flatMap((p) => p.required ?? []), ...(s.required ?? [])],
      };
    }
    return s;
  };
  return resolve;
}

function typeOf(s: Schema | undefined): string | undefined {
  return s?.type ?? (s?.properties ? 'object' : undefined);
}

/** Response side: what a client reads must stay (properties, types). */
function compareRead(where: string, a: Schema | undefined, b: Schema | undefined, ra: ReturnType<typeof resolver>, rb: ReturnType<typeof resolver>, out: string[], depth = 0): void {
  const x = ra(a);
  const y = rb(b);
  if (!x || depth > 8) return;
  if (!y) return void out.push(`${where}: response schema removed`);
  if (typeOf(x) && typeOf(y) && typeOf(x) !== typeOf(y)) return void out.push(`${where}: type changed from ${typeOf(x)} to ${typeOf(y)}`);
  for (const [name, prop] of Object.entries(x.properties ?? {})) {
    const next = y.properties?.[name];
    if (!next) out.push(`${where}.${name}: response property removed`);
    else compareRead(`${where}.${name}`, prop, next, ra, rb, out, depth + 1);
  }
  if (x.items) compareRead(`${where}[]`, x.items, y.items, ra, rb, out, depth + 1);
}

/** Request side: what a client sends must still be accepted, and nothing new may be required. */
function compareWrite(where: string, a: Schema | undefined, b: Schema | undefined, ra: ReturnType<typeof resolver>, rb: ReturnType<typeof resolver>, out: string[], depth = 0): void {
  const x = ra(a);
  const y = rb(b);
  if (!y || depth > 8) return;
  if (!x) return void ((y.required ?? []).length && out.push(`${where}: request body added with required properties`));
  if (typeOf(x) && typeOf(y) && typeOf(x) !== typeOf(y)) return void out.push(`${where}: type changed from ${typeOf(x)} to ${typeOf(y)}`);
  if (x.enum && y.enum) for (const v of x.enum) if (!y.enum.includes(v)) out.push(`${where}: enum value ${JSON.stringify(v)} no longer accepted`);
  const wasRequired = new Set(x.required ?? []);
  for (const name of y.required ?? []) if (!wasRequired.has(name)) out.push(`${where}.${name}: request property ${x.properties?.[name] ? 'made required' : 'added as required'}`);
  for (const [name, prop] of Object.entries(x.properties ?? {})) {
    const next = y.properties?.[name];
    if (!next) out.push(`${where}.${name}: request property removed (clients sending it are refused)`);
    else compareWrite(`${where}.${name}`, prop, next, ra, rb, out, depth + 1);
  }
  if (x.items) compareWrite(`${where}[]`, x.items, y.items, ra, rb, out, depth + 1);
}

type Param = { name: string; in: string; required?: boolean; schema?: Schema };

/** Every breaking change from `before` to `after`, one line each; empty when compatible. */
export function openApiBreakingChanges(before: object, after: object): string[] {
  const a = before as Doc;
  const b = after as Doc;
  const ra = resolver(a);
  const rb = resolver(b);
  const out: string[] = [];
  for (const [path, ops] of Object.entries(a.paths ?? {})) {
    for (const method of METHODS) {
      const opA = ops[method] as Json | undefined;
      if (!opA) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const opB = b.paths?.[path]?.[method] as Json | undefined;
      if (!opB) {
        out.push(`${where}: operation removed`);
        continue;
      }
      const paramsA = (opA.parameters as Param[] | undefined) ?? [];
      const paramsB = (opB.parameters as Param[] | undefined) ?? [];
      const key = (p: Param) => `${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`;
      const byKeyA = new Map(paramsA.map((p) => [key(p), p]));
      for (const p of paramsB) {
        const old = byKeyA.get(key(p));
        if (p.required && !old?.required) out.push(`${where}: ${p.in} parameter ${p.name} ${old ? 'made required' : 'added as required'}`);
        if (old) compareWrite(`${where} ${p.in} ${p.name}`, old.schema, p.schema, ra, rb, out);
      }
      for (const p of paramsA) if (p.in !== 'path' && p.in !== 'header' && !paramsB.some((q) => key(q) === key(p))) out.push(`${where}: ${p.in} parameter ${p.name} removed`);
      const bodyA = (opA.requestBody as Json | undefined)?.content as Record<string, { schema?: Schema }> | undefined;
      const bodyB = (opB.requestBody as Json | undefined)?.content as Record<string, { schema?: Schema }> | undefined;
      if (bodyA?.['application/json'] || bodyB?.['application/json']) compareWrite(`${where} body`, bodyA?.['application/json']?.schema, bodyB?.['application/json']?.schema, ra, rb, out);
      const resA = (opA.responses as Record<string, Json> | undefined) ?? {};
      const resB = (opB.responses as Record<string, Json> | undefined) ?? {};
      for (const [code, response] of Object.entries(resA)) {
        if (!code.startsWith('2')) continue;
        const next = resB[code];
        if (!next) {
          out.push(`${where}: response ${code} removed`);
          continue;
        }
        const schemaA = (response.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema;
        const schemaB = (next.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema;
        if (schemaA) compareRead(`${where} ${code}`, schemaA, schemaB, ra, rb, out);
      }
    }
  }
  return out;
}

/** The major of `info.version` ("2", "2.1.0" -> 2; absent -> 1). */
export function majorVersion(doc: object): number {
  const v = (doc as Doc).info?.version ?? '1';
  const m = /^v?(\d+)/.exec(v);
  return m ? Number(m[1]) : 1;
}
