import { describe, expect, it } from 'vitest';
import { assertWebhookTarget } from './webhook-dispatcher';

describe('the dispatcher checks where a webhook would go before sending it', () => {
  it('refuses a metadata address or name without sending; a loopback MES and a resolved local name pass', async () => {
    await expect(assertWebhookTarget('http://169.254.169.254/latest/meta-data')).rejects.toThrow(/refused: .*link-local/);
    await expect(assertWebhookTarget('http://metadata.google.internal/computeMetadata/v1')).rejects.toThrow(/refused: .*metadata/);
    await expect(assertWebhookTarget('http://[fe80::1]:8080/hook')).rejects.toThrow(/refused/);
    await expect(assertWebhookTarget('http://127.0.0.1:4130/mes/hooks')).resolves.toBeUndefined();
    await expect(assertWebhookTarget('http://localhost:4130/mes/hooks')).resolves.toBeUndefined();
  });
});

describe('the IPv4-mapped form a URL gives the metadata address', () => {
  it('is refused before anything is sent', async () => {
    await expect(assertWebhookTarget('http://[::ffff:169.254.169.254]/latest')).rejects.toThrow(/refused/);
    await expect(assertWebhookTarget('http://100.100.100.200/latest/meta-data')).rejects.toThrow(/metadata/);
  });
});
