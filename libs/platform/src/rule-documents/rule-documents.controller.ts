import 'reflect-metadata';
import { Body, Get, HttpCode, Param, ParseIntPipe, Post, Put, Req, type Type } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { requirePrincipal, Requires } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import type { FastifyRequest } from 'fastify';
import { ProblemDetailsDto } from '../problem.dto';
import { RuleDocumentInvalid, RuleDocumentVersionConflict, type RuleDocumentRevision, type RuleDocumentStore } from './rule-document-store';

/** The body of `POST validate`. */
export interface RuleDocumentBody {
  document: string;
}

/** The body of `POST dry-run`: a draft to try (absent = the version in force) and what the service tries it on. */
export interface RuleDocumentDryRunBody {
  document?: string;
}

/** The body of `PUT`. */
export interface SaveRuleDocumentBody {
  document: string;
  reason: string;
  expectedVersion: number;
}

/** What `PUT` saves: the body and the token's subject as author. */
export interface RuleDocumentSave extends SaveRuleDocumentBody {
  author: string;
}

type Route = 'overview' | 'version' | 'validate' | 'dryRun' | 'save';

/**
 * One service's rule documents over HTTP. Everything here is contract (the OpenAPI documents and
 * clients are generated from it), so each service keeps its own wording and DTOs.
 */
export interface RuleDocumentsControllerSpec<T> {
  /** `kind` in the GET answer (the store's kind name). */
  kind: string;
  /** The documents' name in messages: `<noun> version 3 does not exist`. */
  noun: string;
  /** The request DTOs (class-validator; their schemas are the request bodies of the document). */
  bodies: { validate: Type<RuleDocumentBody>; dryRun: Type<RuleDocumentDryRunBody>; save: Type<SaveRuleDocumentBody> };
  /** 200 response schemas, where the service documents them. */
  responses?: Partial<Record<Route, Type<unknown>>>;
  /** Operation summaries. */
  summaries: Record<Route, string>;
  /** The 422 RULES_INVALID response (type: ProblemDetailsDto unless given). */
  invalid: { type?: Type<unknown>; description: string };
  /** The dry run's 404 description. */
  dryRunNotFound: string;
  /** PUT's 409 RULES_VERSION_CONFLICT description. */
  saveConflict: string;
  /** Fields a service adds to a revision it answers (GET `current`, PUT), after the common ones. */
  revisionFields?: (value: T) => Record<string, unknown>;
}

/** Runs fn, turning the store's refusals into the API's problems (422 RULES_INVALID, 409 RULES_VERSION_CONFLICT). */
async function refusals<R>(fn: () => Promise<R> | R): Promise<R> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RuleDocumentInvalid) throw new DomainError('RULES_INVALID', error.message, { problems: error.problems }, 'invalid');
    if (error instanceof RuleDocumentVersionConflict) throw new DomainError('RULES_VERSION_CONFLICT', error.message, { expected: error.expected, actual: error.actual }, 'conflict');
    throw error;
  }
}

const none: MethodDecorator = () => undefined;

/**
 * The base class of a service's rule-documents controller (docs/adr/0021-rule-documents.md):
 * `GET` (in force + every version), `GET versions/:version`, `POST validate`, `POST dry-run`,
 * `PUT` (save as the next version, author = the token subject). Reading and dry runs need
 * read Rules, saving update Rules. The subclass carries `@Controller(path)` and `@ApiTags`, injects
 * what it needs and says what is service-specific: the store, the validate answer and the dry run.
 *
 * ```ts
 * @ApiTags('rules')
 * @Controller('api/rules/chains')
 * export class ChainRulesController extends RuleDocumentsController<ChainSet, DryRunChainsDto>({ kind: CHAINS_KIND, ... }) { ... }
 * ```
 */
export function RuleDocumentsController<T, DryRunBody extends RuleDocumentDryRunBody = RuleDocumentDryRunBody>(spec: RuleDocumentsControllerSpec<T>) {
  const ok = (route: Route): MethodDecorator => {
    const type = spec.responses?.[route];
    return type ? ApiOkResponse({ type }) : none;
  };
  const INVALID = ApiUnprocessableEntityResponse({ type: spec.invalid.type ?? ProblemDetailsDto, description: spec.invalid.description });

  abstract class RuleDocumentsControllerBase {
    /** The service's versioned documents. */
    protected abstract store(): RuleDocumentStore<T>;
    /** What `validate` answers after `valid: true` for a valid document. */
    protected abstract validated(value: T): Record<string, unknown>;
    /** The dry run's answer for `value` (the draft given, else the version in force); nothing is written. */
    protected abstract preview(value: T, body: DryRunBody, draft: boolean, req: FastifyRequest): Promise<object>;

    /** Saves the next version (a service may refuse more first; RuleDocumentInvalid becomes 422). */
    protected saveVersion(input: RuleDocumentSave): Promise<RuleDocumentRevision<T>> {
      return this.store().save(input);
    }

    protected revisionOf(r: RuleDocumentRevision<T>) {
      return { version: r.version, label: r.label, hash: r.hash, author: r.author, reason: r.reason, createdAt: r.createdAt, document: r.document, ...spec.revisionFields?.(r.value) };
    }

    @Get()
    @ApiOperation({ summary: spec.summaries.overview })
    @ok('overview')
    @Requires('read', 'Rules')
    async overview() {
      const store = this.store();
      return { kind: spec.kind, current: this.revisionOf(store.currentRevision()), versions: await store.versions() };
    }

    @Get('versions/:version')
    @ApiOperation({ summary: spec.summaries.version })
    @ApiParam({ name: 'version', example: 1 })
    @ok('version')
    @ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'RULES_VERSION_NOT_FOUND' })
    @Requires('read', 'Rules')
    async version(@Param('version', ParseIntPipe) version: number) {
      const found = await this.store().version(version);
      if (!found) throw new DomainError('RULES_VERSION_NOT_FOUND', `${spec.noun} version ${version} does not exist`, { version }, 'not_found');
      return found;
    }

    @Post('validate')
    @HttpCode(200)
    @ApiOperation({ summary: spec.summaries.validate })
    @ok('validate')
    @INVALID
    @Requires('read', 'Rules')
    async validate(@Body() body: RuleDocumentBody) {
      const value = await refusals(() => this.store().validate(body.document));
      return { valid: true, ...this.validated(value) };
    }

    @Post('dry-run')
    @HttpCode(200)
    @ApiOperation({ summary: spec.summaries.dryRun })
    @ok('dryRun')
    @ApiNotFoundResponse({ type: ProblemDetailsDto, description: spec.dryRunNotFound })
    @INVALID
    @Requires('read', 'Rules')
    async dryRun(@Body() body: DryRunBody, @Req() req: FastifyRequest) {
      const draft = body.document;
      const value = draft !== undefined ? await refusals(() => this.store().validate(draft)) : this.store().current();
      return this.preview(value, body, draft !== undefined, req);
    }

    @Put()
    @ApiOperation({ summary: spec.summaries.save })
    @ok('save')
    @ApiConflictResponse({ type: ProblemDetailsDto, description: spec.saveConflict })
    @INVALID
    @Requires('update', 'Rules')
    async save(@Body() body: SaveRuleDocumentBody, @Req() req: FastifyRequest) {
      const principal = requirePrincipal(req);
      return this.revisionOf(await refusals(() => this.saveVersion({ document: body.document, reason: body.reason, expectedVersion: body.expectedVersion, author: principal.subject })));
    }
  }

  // The bodies are generic here: give the validation pipe and the OpenAPI document the service's DTOs.
  const proto = RuleDocumentsControllerBase.prototype;
  Reflect.defineMetadata('design:paramtypes', [spec.bodies.validate], proto, 'validate');
  Reflect.defineMetadata('design:paramtypes', [spec.bodies.dryRun, Object], proto, 'dryRun');
  Reflect.defineMetadata('design:paramtypes', [spec.bodies.save, Object], proto, 'save');
  return RuleDocumentsControllerBase;
}
