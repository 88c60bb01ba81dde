import { DomainError } from '@flowline/domain';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { apiErrorOf, boundedText, decodeRpcStatus, protoFieldPath, toGrpcPayload, toProblem, toReason, VALIDATION_FAILED } from './error-model';
import { RequestValidationError } from './validation';

describe('one error model', () => {
  it('spells every domain code one way: UPPER_SNAKE_CASE', () => {
    expect(['order_not_found', 'ORDER_NOT_FOUND', 'order-not-found', 'OrderNotFound'].map(toReason)).toEqual(Array(4).fill('ORDER_NOT_FOUND'));
  });

  it('turns JSON field paths into proto field paths for gRPC', () => {
    expect(protoFieldPath('lines.0.quantity')).toBe('lines[0].quantity');
    expect(protoFieldPath('meta.requestId')).toBe('meta.request_id');
    expect(protoFieldPath('orderId')).toBe('order_id');
  });

  it('sends a refusal over gRPC as google.rpc.Status with ErrorInfo (reason, domain, metadata)', () => {
    const error = apiErrorOf(new DomainError('order_archived', 'order o-1 is archived', { orderId: 'o-1', revision: 3 }));
    if (!error) throw new Error('not mapped');
    const payload = toGrpcPayload(error, 'order-intake');
    expect(payload.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(payload.metadata.get('x-domain-code')).toEqual(['ORDER_ARCHIVED']);
    expect(decodeRpcStatus(payload.metadata)).toEqual({
      code: GrpcStatus.FAILED_PRECONDITION,
      message: 'order o-1 is archived',
      errorInfo: { reason: 'ORDER_ARCHIVED', domain: 'order-intake.flowline', metadata: { orderId: 'o-1', revision: '3' } },
      fieldViolations: [],
    });
  });

  it("a refusal naming a field carries its message in the field's violation too (REST errors[] and gRPC field violations were blank)", () => {
    const error = apiErrorOf(new DomainError('payment_amount_mismatch', 'amount 100 does not match the order total 200', { field: 'amount' }, 'invalid'));
    if (!error) throw new Error('not mapped');
    expect(toProblem(error, 'order-intake').errors).toEqual([{ field: 'amount', constraint: 'refused', message: 'amount 100 does not match the order total 200' }]);
    expect(decodeRpcStatus(toGrpcPayload(error, 'order-intake').metadata)?.fieldViolations).toEqual([
      expect.objectContaining({ field: 'amount', description: 'amount 100 does not match the order total 200' }),
    ]);
  });

  it('sends details holding Chinese text and emoji (metadata strings must be ASCII) and never cuts a message inside a surrogate pair', () => {
    const error = apiErrorOf(new DomainError('sku_not_found', 'no SKU 龙井-01', { sku: '龙井-01', note: '😀' }, 'not_found'));
    if (!error) throw new Error('not mapped');
    const payload = toGrpcPayload(error, 'inventory');
    expect(JSON.parse(String(payload.metadata.get('x-domain-details')[0]))).toEqual({ sku: '龙井-01', note: '😀' });
    expect(decodeRpcStatus(payload.metadata)?.errorInfo?.metadata).toEqual({ sku: '龙井-01', note: '😀' });
    const cut = boundedText(`a${'😀'.repeat(600)}`, 1024);
    expect(() => encodeURI(cut)).not.toThrow();
    expect(cut).toMatch(/\.\.\. \(1201 characters\)$/);
  });

  it('keeps gRPC trailers small when an error echoes a huge request value (Node HTTP/2 header list limit: 64 KB)', () => {
    const huge = 'x'.repeat(70_000);
    const error = apiErrorOf(new DomainError('invalid_window', `from and to must be ISO times: ${huge}`, { from: huge, window: { to: huge }, n: 3 }, 'invalid'));
    if (!error) throw new Error('not mapped');
    const payload = toGrpcPayload(error, 'tracking');
    const size = Object.values(payload.metadata.getMap()).reduce<number>((n, v) => n + (typeof v === 'string' ? v.length : v.length), 0) + payload.message.length;
    expect(size).toBeLessThan(8 * 1024);
    // Many long details: the header stays bounded and parseable.
    const many = apiErrorOf(new DomainError('x', 'm', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, huge])), 'invalid'));
    if (!many) throw new Error('not mapped');
    const header = String(toGrpcPayload(many, 't').metadata.get('x-domain-details')[0]);
    expect(header.length).toBeLessThanOrEqual(4096);
    expect(() => JSON.parse(header)).not.toThrow();
    const decoded = decodeRpcStatus(payload.metadata);
    expect(decoded?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(decoded?.errorInfo?.metadata.from).toMatch(/^x{512}\.\.\. \(70000 characters\)$/);
    expect(decoded?.errorInfo?.metadata.n).toBe('3');
    expect(JSON.parse(String(payload.metadata.get('x-domain-details')[0]))).toMatchObject({ n: 3, window: { to: expect.stringMatching(/\(70000 characters\)$/) } });
    // A short error is untouched.
    const short = apiErrorOf(new DomainError('x', 'short', { from: 'a' }));
    if (!short) throw new Error('not mapped');
    expect(toGrpcPayload(short, 't').message).toBe('short');
  });

  it('sends bad input as INVALID_ARGUMENT with a BadRequest naming each field', () => {
    const error = apiErrorOf(new RequestValidationError([{ field: 'lines.0.quantity', constraint: 'min', message: 'quantity must not be less than 1' }]));
    if (!error) throw new Error('not mapped');
    const decoded = decodeRpcStatus(toGrpcPayload(error, 'inventory').metadata);
    expect(decoded?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(decoded?.errorInfo?.reason).toBe(VALIDATION_FAILED);
    expect(decoded?.fieldViolations).toEqual([{ field: 'lines[0].quantity', description: 'quantity must not be less than 1', reason: 'MIN' }]);
  });

  it('renders the same error as RFC 9457 problem details with the same code', () => {
    const error = apiErrorOf(new DomainError('ORDER_NOT_FOUND', 'order x not found', { orderId: 'x' }, 'not_found'));
    if (!error) throw new Error('not mapped');
    expect(toProblem(error, 'order-intake', '/api/orders/x')).toEqual({
      type: 'urn:flowline:problem:ORDER_NOT_FOUND',
      title: 'Order not found',
      status: 404,
      detail: 'order x not found',
      instance: '/api/orders/x',
      code: 'ORDER_NOT_FOUND',
      domain: 'order-intake.flowline',
      details: { orderId: 'x' },
      errors: [],
      message: 'order x not found',
    });
  });

  it('leaves errors it does not know to the default handling', () => {
    expect(apiErrorOf(new Error('boom'))).toBeUndefined();
  });
});
