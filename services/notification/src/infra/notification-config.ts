import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { RuleDocumentInvalid, type RuleDocumentKind } from '@flowline/platform';
import { IntlMessageFormat } from 'intl-messageformat';
import { parse } from 'yaml';
import { CHANNEL_KINDS, type RuleSet, type StaffDirectory } from '../domain/notification.types';
import { LOCALES, sectionOf, type TemplateCatalogue } from '../domain/templates';

const channel = { enum: [...CHANNEL_KINDS] };
const hhmm = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' };

export const RULES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'quietHours', 'rules'],
  properties: {
    version: { type: 'string', minLength: 1 },
    quietHours: { type: 'object', additionalProperties: false, required: ['start', 'end', 'timeZone'], properties: { start: hhmm, end: hhmm, timeZone: { type: 'string' } } },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'on', 'template', 'to', 'channels'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9-]+$' },
          on: { type: 'string', pattern: '^[A-Z][A-Za-z]+$' },
          template: { type: 'string' },
          to: {
            oneOf: [
              { type: 'object', additionalProperties: false, required: ['audience'], properties: { audience: { const: 'customer' } } },
              { type: 'object', additionalProperties: false, required: ['audience'], properties: { audience: { const: 'approver' } } },
              { type: 'object', additionalProperties: false, required: ['audience'], properties: { audience: { const: 'owner' } } },
              { type: 'object', additionalProperties: false, required: ['audience', 'role'], properties: { audience: { const: 'role' }, role: { type: 'string' } } },
            ],
          },
          channels: { type: 'array', minItems: 1, uniqueItems: true, items: channel },
          when: {
            type: 'object',
            additionalProperties: false,
            properties: {
              channels: { type: 'array', items: { type: 'string' } },
              minAmount: { type: 'integer', minimum: 0 },
              maxAmount: { type: 'integer', minimum: 0 },
              tags: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
  },
} as const;

const localeTemplate = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sms: { type: 'string' },
    wechat: {
      type: 'object',
      additionalProperties: false,
      required: ['templateId', 'fields'],
      properties: { templateId: { type: 'string' }, page: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } },
    },
    email: { type: 'object', additionalProperties: false, required: ['subject', 'body'], properties: { subject: { type: 'string' }, body: { type: 'string' } } },
    robot: { type: 'object', additionalProperties: false, required: ['title', 'text'], properties: { title: { type: 'string' }, text: { type: 'string' } } },
  },
};

export const TEMPLATES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'templates'],
  properties: {
    version: { type: 'string', minLength: 1 },
    emailLayout: { type: 'string', minLength: 1 },
    templates: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['version', 'category', 'locales'],
        properties: {
          version: { type: 'integer', minimum: 1 },
          category: { const: 'service' },
          locales: { type: 'object', additionalProperties: false, required: ['zh-CN'], properties: Object.fromEntries(LOCALES.map((l) => [l, localeTemplate])) },
        },
      },
    },
  },
} as const;

export const STAFF_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'robots', 'staff'],
  properties: {
    version: { type: 'string' },
    robots: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'urlEnv'],
        properties: { kind: { enum: ['dingtalk', 'wecom'] }, urlEnv: { type: 'string' }, secretEnv: { type: 'string' } },
      },
    },
    shops: { type: 'object', additionalProperties: { type: 'string' } },
    staff: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'roles', 'channels'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          roles: { type: 'array', items: { type: 'string' } },
          channels: { type: 'object', additionalProperties: false, properties: Object.fromEntries(CHANNEL_KINDS.map((c) => [c, { type: 'string' }])) },
        },
      },
    },
  },
} as const;

export interface NotificationConfig {
  rules: RuleSet;
  templates: TemplateCatalogue;
  staff: StaffDirectory;
  /** `sha256:` + 12 hex of the three files together: changes even when someone forgot to bump a version. */
  hash: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true });
const validators: Record<'rules' | 'templates' | 'staff', ValidateFunction> = {
  rules: ajv.compile(RULES_SCHEMA),
  templates: ajv.compile(TEMPLATES_SCHEMA),
  staff: ajv.compile(STAFF_SCHEMA),
};

function check<T>(kind: keyof typeof validators, file: string, value: unknown): T {
  const validate = validators[kind];
  if (!validate(value)) throw new ConfigError(file, (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`));
  return value as T;
}

/** Cross-file checks the schemas cannot express: templates exist, have text for each channel, parse as ICU. */
export function crossCheck(rules: RuleSet, templates: TemplateCatalogue, staff: StaffDirectory): string[] {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(templates.templates)) {
    for (const [locale, lt] of Object.entries(t.locales)) {
      const messages = [lt?.sms, lt?.email?.subject, lt?.email?.body, lt?.robot?.title, lt?.robot?.text, ...Object.values(lt?.wechat?.fields ?? {})].filter((m): m is string => m !== undefined);
      for (const m of messages) {
        try {
          new IntlMessageFormat(m, locale);
        } catch (e) {
          problems.push(`template ${name} (${locale}): ${(e as Error).message}`);
        }
      }
    }
  }
  const ids = new Set<string>();
  for (const r of rules.rules) {
    if (ids.has(r.id)) problems.push(`rule ${r.id}: duplicate id`);
    ids.add(r.id);
    const t = templates.templates[r.template];
    if (!t) {
      problems.push(`rule ${r.id}: unknown template ${r.template}`);
      continue;
    }
    for (const c of r.channels) if (!t.locales['zh-CN']?.[sectionOf(c)]) problems.push(`rule ${r.id}: template ${r.template} has no zh-CN ${sectionOf(c)} text for ${c}`);
  }
  for (const s of staff.staff) {
    for (const k of ['dingtalk', 'wecom'] as const) {
      const robot = s.channels[k];
      if (robot && staff.robots[robot]?.kind !== k) problems.push(`staff ${s.id}: ${k} robot ${robot} is not a ${k} robot in robots`);
    }
  }
  for (const [shop, owner] of Object.entries(staff.shops ?? {})) if (!staff.staff.some((s) => s.id === owner)) problems.push(`shops.${shop}: owner ${owner} is not in staff`);
  return problems;
}

/** Parses and validates the three files' texts. Throws ConfigError naming the file and every problem. */
export function parseNotificationConfig(texts: { rules: string; templates: string; staff: string }): NotificationConfig {
  const rules = check<RuleSet>('rules', 'rules.yaml', parse(texts.rules));
  const templates = check<TemplateCatalogue>('templates', 'templates.yaml', parse(texts.templates));
  const staff = check<StaffDirectory>('staff', 'staff.yaml', parse(texts.staff));
  const problems = crossCheck(rules, templates, staff);
  if (problems.length) throw new ConfigError('rules.yaml/templates.yaml/staff.yaml', problems);
  const hash = createHash('sha256').update(texts.rules).update('\0').update(texts.templates).update('\0').update(texts.staff).digest('hex').slice(0, 12);
  return { rules, templates, staff, hash: `sha256:${hash}` };
}

/** The config folder: NOTIFICATION_CONFIG_DIR, else services/notification/config next to the sources (or dist). */
export function configDir(): string {
  if (process.env.NOTIFICATION_CONFIG_DIR) return process.env.NOTIFICATION_CONFIG_DIR;
  for (const up of ['../../config', '../../../../../services/notification/config']) {
    const dir = resolve(__dirname, up);
    try {
      readFileSync(resolve(dir, 'rules.yaml'));
      return dir;
    } catch {
      /* try the next */
    }
  }
  return resolve(process.cwd(), 'services/notification/config');
}

export function loadNotificationConfig(dir: string = configDir()): NotificationConfig {
  const read = (f: string) => readFileSync(resolve(dir, f), 'utf8');
  return parseNotificationConfig({ rules: read('rules.yaml'), templates: read('templates.yaml'), staff: read('staff.yaml') });
}


export const NOTIFICATION_RULES_KIND = 'notification.rules';

/**
 * rules.yaml as a versioned rule document (docs/adr/0021-rule-documents.md): the rules schema plus
 * the cross-checks against the templates and staff directory in use. Problems name their path
 * (`/rules/2/channels/0`; a cross-check problem names its rule's path).
 */
export function notificationRulesKind(context: () => { templates: TemplateCatalogue; staff: StaffDirectory }): RuleDocumentKind<RuleSet> {
  return {
    name: NOTIFICATION_RULES_KIND,
    parse(text) {
      let raw: unknown;
      try {
        raw = parse(text);
      } catch (e) {
        throw new RuleDocumentInvalid(NOTIFICATION_RULES_KIND, [{ path: '', reason: `not valid YAML: ${(e as Error).message.split('\n')[0]}` }]);
      }
      const validate = validators.rules;
      if (!validate(raw)) throw new RuleDocumentInvalid(NOTIFICATION_RULES_KIND, (validate.errors ?? []).map((e) => ({ path: e.instancePath, reason: e.message ?? 'invalid' })));
      const rules = raw as RuleSet;
      const { templates, staff } = context();
      const problems = crossCheck(rules, templates, staff).map((reason) => {
        const at = rules.rules.findIndex((r) => reason.startsWith(`rule ${r.id}:`));
        return { path: at >= 0 ? `/rules/${at}` : '', reason, ...(at >= 0 ? { ruleId: rules.rules[at].id } : {}) };
      });
      if (problems.length) throw new RuleDocumentInvalid(NOTIFICATION_RULES_KIND, problems);
      return rules;
    },
    label: (rules) => rules.version,
  };
}
