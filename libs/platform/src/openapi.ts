import type { INestApplication } from '@nestjs/common';
import { PUBLIC_OPENAPI_EXTENSION } from '@flowline/auth';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/**
 * A service's OpenAPI document, the same whether served at /docs-json or generated into
 * docs/openapi/<service>.json by scripts/contracts/openapi.ts (and diffed in CI). `version` is
 * the REST API's version: its major grows with every breaking change (docs/adr/0009-api-contracts.md).
 */
export function openApiDocument(app: INestApplication, name: string, version = '1'): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(`Flowline ${name}`)
    .setDescription(
      `HTTP API of the ${name} service. Errors are RFC 9457 problem details (application/problem+json) with a stable UPPER_SNAKE_CASE \`code\`, ` +
        'the same as the gRPC google.rpc.ErrorInfo reason. gRPC: see proto/ (server reflection is on).',
    )
    .setVersion(version)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'OIDC access token (audience `flowline`) from the configured issuer; customer portal tokens from order-intake /api/portal/session (docs/adr/0018, 0019).' },
      BEARER_SCHEME,
    )
    .build();
  return bearerSecurity(problemJsonErrors(tidyHeaderParameters(SwaggerModule.createDocument(app, config))));
}

/** The OpenAPI security scheme name of the bearer access token. */
export const BEARER_SCHEME = 'bearer';

/**
 * Every operation needs a bearer access token (`security: [{ bearer: [] }]`, a 401 problem response)
 * except those marked public with @Public() (health, portal sign-in, JWKS, signed callbacks), which
 * say `security: []`. The guard (libs/auth) enforces what the document states.
 */
export function bearerSecurity(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, Record<string, unknown> & { responses?: Record<string, unknown> }>)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      if (op[PUBLIC_OPENAPI_EXTENSION]) {
        delete op[PUBLIC_OPENAPI_EXTENSION];
        op.security = [];
        continue;
      }
      op.security = [{ [BEARER_SCHEME]: [] }];
      op.responses['401'] ??= {
        description: 'No, expired or invalid access token (WWW-Authenticate: Bearer)',
        content: {
          'application/problem+json': {
            schema: {
              type: 'object',
              properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer', example: 401 }, detail: { type: 'string' }, code: { type: 'string', example: 'UNAUTHENTICATED' } },
            },
          },
        },
      };
    }
  }
  return doc;
}

type Parameter = { name: string; in: string; required?: boolean; description?: string };

/**
 * `@Headers('idempotency-key') key?: string` makes @nestjs/swagger document a *required* header
 * (lower-case, no description) next to the `@ApiHeader({ name: 'Idempotency-Key', required: false })`
 * that describes it: a generated client then demands both. Header names are case-insensitive, so
 * the described one wins and an undescribed header (only ever read through @Headers) is optional.
 */
export function tidyHeaderParameters(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { parameters?: Parameter[] }>)) {
      if (!op || typeof op !== 'object' || !Array.isArray(op.parameters)) continue;
      const headers = new Map<string, Parameter>();
      const kept: Parameter[] = [];
      for (const p of op.parameters) {
        if (p.in !== 'header') {
          kept.push(p);
          continue;
        }
        const key = p.name.toLowerCase();
        const seen = headers.get(key);
        if (!seen) {
          headers.set(key, p);
          kept.push(p);
        } else if (!seen.description && p.description) {
          kept[kept.indexOf(seen)] = p;
          headers.set(key, p);
        }
      }
      for (const p of headers.values()) if (!p.description) p.required = false;
      op.parameters = kept;
    }
  }
  return doc;
}

/**
 * Error responses (4xx / 5xx) are RFC 9457 problem details: the document says
 * `application/problem+json`, the media type the error filter sends, not Nest's default
 * `application/json`.
 */
export function problemJsonErrors(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const [status, response] of Object.entries(op.responses)) {
        const json = response?.content?.['application/json'];
        if (!/^[45]/.test(status) || json === undefined || !response.content) continue;
        delete response.content['application/json'];
        response.content['application/problem+json'] = json;
      }
    }
  }
  return doc;
}
