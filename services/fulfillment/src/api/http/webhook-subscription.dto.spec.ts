import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { WebhookSubscriptionDto } from './webhooks.controller';

const errors = (url: string) =>
  validateSync(plainToInstance(WebhookSubscriptionDto, { url, eventTypes: ['shipment.packed'] })).flatMap((e) => Object.values(e.constraints ?? {}));

describe('a webhook subscription URL', () => {
  it('may not aim at the cloud metadata address (400 naming url); an MES on a private or loopback address may', () => {
    expect(errors('http://169.254.169.254/latest')).toEqual([expect.stringMatching(/^url must not point at 169\.254\.169\.254 is a link-local address/)]);
    expect(errors('http://metadata.google.internal/x')).toHaveLength(1);
    expect(errors('http://10.0.0.5:8080/flowline/webhooks')).toEqual([]);
    expect(errors('http://127.0.0.1:4130/mes/hooks')).toEqual([]);
  });

  it('names each event type once: a repeated one is refused naming eventTypes (it was stored twice)', () => {
    const fields = (eventTypes: string[]) => validateSync(plainToInstance(WebhookSubscriptionDto, { url: 'http://10.0.0.5/h', eventTypes })).map((e) => e.property);
    expect(fields(['shipment.packed', 'shipment.packed'])).toEqual(['eventTypes']);
    expect(fields(['shipment.packed'])).toEqual([]);
  });
});
