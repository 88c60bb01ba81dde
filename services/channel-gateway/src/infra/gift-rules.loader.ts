import { readFileSync, statSync } from 'node:fs';
import { DomainError } from '@flowline/domain';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { GIFT_RULES_SCHEMA, giftRuleSetProblems, type GiftRuleSet } from '../domain/gifts/gift-rules';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validate = ajv.compile<GiftRuleSet>(GIFT_RULES_SCHEMA);

/** Parses and validates a gift rule set (YAML); refuses with GIFT_RULES_INVALID naming each problem by path. */
export function parseGiftRules(text: string, source: string): GiftRuleSet {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new DomainError('GIFT_RULES_INVALID', `${source}: not YAML: ${(e as Error).message}`, { source }, 'invalid');
  }
  const errors = validate(data) ? giftRuleSetProblems(data) : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
  if (errors.length) throw new DomainError('GIFT_RULES_INVALID', `${source}: ${errors.join('; ')}`, { source, errors }, 'invalid');
  return data as GiftRuleSet;
}

/**
 * The gift rule set of CHANNEL_GIFT_RULES_FILE, read again when the file changes (edit the YAML and
 * bump its version; orders placed afterwards get the new rules). No file configured: no gifts.
 * An invalid file refuses to start the service, and an invalid edit keeps the last valid set and logs.
 */
export function giftRulesSource(file: string | undefined, log: (msg: string) => void = () => undefined): () => GiftRuleSet | null {
  if (!file) return () => null;
  let current = parseGiftRules(readFileSync(file, 'utf8'), file);
  let mtime = statSync(file).mtimeMs;
  return () => {
    try {
      const m = statSync(file).mtimeMs;
      if (m !== mtime) {
        mtime = m;
        current = parseGiftRules(readFileSync(file, 'utf8'), file);
      }
    } catch (e) {
      log(`gift rules not reloaded, keeping version ${current.version}: ${(e as Error).message}`);
    }
    return current;
  };
}
