/** JSON Schema (2019-09) of an approval chain file (services/approval/chains/*.chains.yaml). */
const duration = { type: 'string', pattern: '^[0-9]+(s|m|h|d)$' } as const;
const id = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,63}$' } as const;

export const CHAIN_SET_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2019-09/schema',
  type: 'object',
  additionalProperties: false,
  required: ['chainSetVersion', 'chains'],
  properties: {
    chainSetVersion: { type: 'string', minLength: 1, maxLength: 40 },
    description: { type: 'string' },
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: { sla: duration, remindAfter: duration },
    },
    chains: {
      type: 'object',
      minProperties: 1,
      propertyNames: id,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['steps'],
        properties: {
          description: { type: 'string' },
          steps: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id'],
              anyOf: [{ required: ['role'] }, { required: ['approvers'] }],
              properties: {
                id,
                role: id,
                approvers: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
                quorum: { enum: ['any', 'all'] },
                sla: duration,
                remindAfter: duration,
                escalateTo: {
                  type: 'object',
                  additionalProperties: false,
                  minProperties: 1,
                  properties: { role: id, approver: { type: 'string', minLength: 1, maxLength: 100 } },
                },
                skipWhen: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['fact', 'op', 'value'],
                  properties: {
                    fact: { enum: ['grandTotal', 'priceDifference'] },
                    op: { enum: ['lt', 'lte', 'gt', 'gte', 'eq', 'ne'] },
                    value: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      },
    },
    outOfOffice: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['user', 'delegateTo', 'from', 'until'],
        properties: {
          user: { type: 'string', minLength: 1 },
          delegateTo: { type: 'string', minLength: 1 },
          from: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;
