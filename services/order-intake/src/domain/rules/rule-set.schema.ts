import { DECISION_KINDS, FACT_NAMES, OPERATOR_NAMES } from './rule-set';

/**
 * JSON Schema (draft 2019-09 subset, checked with ajv) of a rule file. Structure only; the parser
 * adds the checks a schema cannot express well (unique ids, parameters that exist, an operator
 * that suits the fact's type, a value that suits the operator).
 */
export const RULE_SET_SCHEMA = {
  $id: 'https://flowline.local/schemas/order-rules.json',
  type: 'object',
  required: ['ruleSetVersion', 'rules'],
  additionalProperties: false,
  properties: {
    ruleSetVersion: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z._+-]+$' },
    description: { type: 'string' },
    params: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
      additionalProperties: { type: ['number', 'string', 'boolean'] },
    },
    rules: { type: 'array', minItems: 1, items: { $ref: '#/$defs/rule' } },
  },
  $defs: {
    rule: {
      type: 'object',
      required: ['id', 'when', 'then'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
        description: { type: 'string' },
        enabled: { type: 'boolean' },
        when: { $ref: '#/$defs/condition' },
        then: { type: 'array', minItems: 1, items: { $ref: '#/$defs/decision' } },
      },
    },
    // A condition is exactly one of {all: [...]}, {any: [...]}, {not: ...} or a predicate.
    // if/then/else instead of oneOf keeps ajv's errors about the branch the author meant.
    condition: {
      type: 'object',
      if: { required: ['all'] },
      then: { additionalProperties: false, properties: { all: { type: 'array', minItems: 1, items: { $ref: '#/$defs/condition' } } } },
      else: {
        if: { required: ['any'] },
        then: { additionalProperties: false, properties: { any: { type: 'array', minItems: 1, items: { $ref: '#/$defs/condition' } } } },
        else: {
          if: { required: ['not'] },
          then: { additionalProperties: false, properties: { not: { $ref: '#/$defs/condition' } } },
          else: { $ref: '#/$defs/predicate' },
        },
      },
    },
    predicate: {
      type: 'object',
      required: ['fact', 'op', 'value'],
      additionalProperties: false,
      properties: {
        fact: { enum: FACT_NAMES },
        op: { enum: OPERATOR_NAMES },
        value: {},
      },
    },
    decision: {
      type: 'object',
      required: ['decision'],
      properties: { decision: { enum: DECISION_KINDS } },
      allOf: [
        {
          if: { required: ['decision'], properties: { decision: { const: 'require_approval' } } },
          then: { required: ['chain'], additionalProperties: false, properties: { decision: true, chain: { type: 'string', minLength: 1, maxLength: 100 } } },
        },
        {
          if: { required: ['decision'], properties: { decision: { const: 'hold_for_review' } } },
          then: { required: ['reason'], additionalProperties: false, properties: { decision: true, reason: { type: 'string', minLength: 1, maxLength: 500 } } },
        },
        {
          if: { required: ['decision'], properties: { decision: { const: 'priority' } } },
          then: { required: ['level'], additionalProperties: false, properties: { decision: true, level: { enum: ['high', 'normal'] } } },
        },
        {
          if: { required: ['decision'], properties: { decision: { enum: ['require_qc', 'free_shipping', 'ready_to_ship'] } } },
          then: { additionalProperties: false, properties: { decision: true } },
        },
      ],
    },
  },
} as const;
