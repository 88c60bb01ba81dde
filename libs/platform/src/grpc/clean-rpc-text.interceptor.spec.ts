import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../validation';
import { CleanRpcTextInterceptor } from './clean-rpc-text.interceptor';

const rpc = (data: unknown, type = 'rpc') => ({ getType: () => type, switchToRpc: () => ({ getData: () => data }) }) as unknown as ExecutionContext;
const handler: CallHandler = { handle: () => of('handled') };

describe('CleanRpcTextInterceptor', () => {
  const interceptor = new CleanRpcTextInterceptor();

  it('refuses a gRPC request holding NUL or a lone surrogate in any string, naming the field, before the handler runs', () => {
    expect(() => interceptor.intercept(rpc({ meta: { requestId: 'k' }, comment: 'ok\u0000' }), handler)).toThrow(RequestValidationError);
    let thrown: unknown;
    try {
      interceptor.intercept(rpc({ lines: [{ sku: 'A' }, { sku: '\ud800' }] }), handler);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RequestValidationError);
    expect((thrown as RequestValidationError).violations).toEqual([expect.objectContaining({ field: 'lines.1.sku', constraint: 'isCleanText' })]);
  });

  it('passes clean requests and leaves HTTP to the validation pipe', async () => {
    await expect(lastValueFrom(interceptor.intercept(rpc({ comment: '尽快发货 😀' }), handler))).resolves.toBe('handled');
    await expect(lastValueFrom(interceptor.intercept(rpc({ comment: 'x\u0000' }, 'http'), handler))).resolves.toBe('handled');
  });
});
