import { describe, expect, it } from 'vitest';
import { majorVersion, openApiBreakingChanges } from './openapi-diff';

const base = () => ({
  openapi: '3.0.0',
  info: { version: '1' },
  paths: {
    '/api/orders/{orderId}': {
      get: {
        parameters: [
          { name: 'orderId', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'view', in: 'query', required: false, schema: { type: 'string', enum: ['full', 'summary'] } },
        ],
        responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } }, '404': {} },
      },
    },
    '/api/orders': {
      post: {
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Place' } } } },
        responses: { '201': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } } },
      },
    },
  },
  components: {
    schemas: {
      Order: { type: 'object', properties: { orderId: { type: 'string' }, total: { type: 'number' }, lines: { type: 'array', items: { $ref: '#/components/schemas/Line' } } }, required: ['orderId'] },
      Line: { type: 'object', properties: { sku: { type: 'string' } } },
      Place: { type: 'object', properties: { channel: { type: 'string' }, note: { type: 'string' } }, required: ['channel'] },
    },
  },
});

type Doc = ReturnType<typeof base> & Record<string, unknown>;
const changed = (edit: (d: Doc) => void) => {
  const d = base() as Doc;
  edit(d);
  return openApiBreakingChanges(base(), d);
};

describe('OpenAPI breaking changes', () => {
  it('finds none between a document and itself, or when fields and operations are only added', () => {
    expect(openApiBreakingChanges(base(), base())).toEqual([]);
    expect(
      changed((d) => {
        (d.components.schemas.Order.properties as Record<string, unknown>).currency = { type: 'string' };
        (d.components.schemas.Place.properties as Record<string, unknown>).tags = { type: 'array', items: { type: 'string' } };
        (d.paths as Record<string, unknown>)['/api/stock'] = { get: { responses: { '200': {} } } };
      }),
    ).toEqual([]);
  });

  it('reports a removed operation and a removed success response', () => {
    expect(changed((d) => delete (d.paths as Record<string, unknown>)['/api/orders'])).toEqual(['POST /api/orders: operation removed']);
    expect(changed((d) => delete (d.paths['/api/orders/{orderId}'].get.responses as Record<string, unknown>)['200'])).toEqual(['GET /api/orders/{orderId}: response 200 removed']);
  });

  it('reports a response property removed or retyped, nested ones included', () => {
    expect(changed((d) => delete (d.components.schemas.Order.properties as Record<string, unknown>).total)).toEqual(
      expect.arrayContaining(['GET /api/orders/{orderId} 200.total: response property removed']),
    );
    expect(changed((d) => ((d.components.schemas.Line.properties as Record<string, unknown>).sku = { type: 'number' }))).toEqual(
      expect.arrayContaining(['GET /api/orders/{orderId} 200.lines[].sku: type changed from string to number']),
    );
  });

  it('reports a new required request property, a removed one, and a request enum value dropped', () => {
    expect(changed((d) => d.components.schemas.Place.required.push('note'))).toEqual(['POST /api/orders body.note: request property made required']);
    expect(changed((d) => delete (d.components.schemas.Place.properties as Record<string, unknown>).note)).toEqual([
      'POST /api/orders body.note: request property removed (clients sending it are refused)',
    ]);
    expect(changed((d) => (d.paths['/api/orders/{orderId}'].get.parameters[1].schema = { type: 'string', enum: ['full'] }))).toEqual([
      'GET /api/orders/{orderId} query view: enum value "summary" no longer accepted',
    ]);
    expect(changed((d) => (d.paths['/api/orders/{orderId}'].get.parameters[1].required = true))).toEqual(['GET /api/orders/{orderId}: query parameter view made required']);
  });

  it('reports a removed query parameter but not a removed header (headers the server no longer reads are ignored)', () => {
    expect(changed((d) => d.paths['/api/orders/{orderId}'].get.parameters.splice(1, 1))).toEqual(['GET /api/orders/{orderId}: query parameter view removed']);
    const withHeader = base() as Doc;
    const params = withHeader.paths['/api/orders/{orderId}'].get.parameters as unknown[];
    params.push({ in: 'header', name: 'X-Actor-Id', required: true, schema: { type: 'string' } });
    expect(openApiBreakingChanges(withHeader, base())).toEqual([]);
  });

  it('reads the major version from info.version', () => {
    expect(majorVersion({ info: { version: '2.1.0' } })).toBe(2);
    expect(majorVersion({ info: { version: 'v3' } })).toBe(3);
    expect(majorVersion({})).toBe(1);
  });
});
