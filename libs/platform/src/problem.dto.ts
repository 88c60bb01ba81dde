import { ApiProperty } from '@nestjs/swagger';

/** One bad field of a request (JSON path from the body root, or a header / query / path name). */
export class FieldViolationDto {
  @ApiProperty({ example: 'lines.0.quantity', description: 'Dotted path from the body root, or the header / query / path parameter name' }) field!: string;
  @ApiProperty({ example: 'min', description: 'The broken rule: min, isInt, whitelistValidation, required, format, isIn, ...' }) constraint!: string;
  @ApiProperty({ example: 'quantity must not be less than 1' }) message!: string;
}

/**
 * RFC 9457 problem details (application/problem+json), the body of every Flowline REST error, with
 * the same `code` a gRPC client finds in google.rpc.ErrorInfo.reason.
 */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:flowline:problem:ORDER_NOT_FOUND', description: 'urn:flowline:problem:<code>' }) type!: string;
  @ApiProperty({ example: 'Order not found' }) title!: string;
  @ApiProperty({ example: 404, description: 'The HTTP status' }) status!: number;
  @ApiProperty({ example: 'order 01JDGZ6M3V8Q not found' }) detail!: string;
  @ApiProperty({ example: '/api/orders/01JDGZ6M3V8Q', description: 'The request path' }) instance!: string;
  @ApiProperty({ example: 'ORDER_NOT_FOUND', description: 'Stable UPPER_SNAKE_CASE code (gRPC: ErrorInfo.reason); VALIDATION_FAILED for bad input' }) code!: string;
  @ApiProperty({ example: 'order-intake.flowline', description: 'The service that refused (gRPC: ErrorInfo.domain)' }) domain!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { orderId: '01JDGZ6M3V8Q' }, description: 'Structured details of the refusal' })
  details!: Record<string, unknown>;
  @ApiProperty({ type: () => [FieldViolationDto], description: 'Each offending field (empty unless the input was at fault)' }) errors!: FieldViolationDto[];
  @ApiProperty({ example: 'order 01JDGZ6M3V8Q not found', deprecated: true, description: 'Same as detail' }) message!: string;
}
