import specs from '@asyncapi/specs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

let validate: ReturnType<Ajv['compile']> | undefined;

/**
 * Validates an AsyncAPI document (parsed YAML/JSON) against the official AsyncAPI 3.0.0 JSON Schema
 * from @asyncapi/specs; returns one line per error, empty when valid.
 */
export function validateAsyncApi(doc: unknown): string[] {
  if (!validate) {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats(ajv);
    validate = ajv.compile(specs.schemasWithoutId['3.0.0'] as object);
  }
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${e.params ? JSON.stringify(e.params) : ''}`.trim());
}
