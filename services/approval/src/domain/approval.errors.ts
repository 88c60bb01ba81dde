import { DomainError } from '@flowline/domain';

/**
 * Every refusal of an approval request, with its stable code. `kind` picks the status:
 * conflict -> HTTP 409 / gRPC FAILED_PRECONDITION, invalid -> 422 / INVALID_ARGUMENT,
 * not_found -> 404 / NOT_FOUND, forbidden (APPROVAL_NOT_AN_APPROVER: not this step's approver) ->
 * 403 / PERMISSION_DENIED.
 */
export const ApprovalErrorCode = {
  NotFound: 'APPROVAL_NOT_FOUND',
  AlreadyRequested: 'APPROVAL_ALREADY_REQUESTED',
  NotPending: 'APPROVAL_NOT_PENDING',
  NotReturned: 'APPROVAL_NOT_RETURNED',
  NotCurrentStep: 'APPROVAL_NOT_CURRENT_STEP',
  NotAnApprover: 'APPROVAL_NOT_AN_APPROVER',
  AlreadyVoted: 'APPROVAL_ALREADY_VOTED',
  UnknownChain: 'APPROVAL_UNKNOWN_CHAIN',
  Invalid: 'APPROVAL_INVALID',
} as const;
export type ApprovalErrorCode = (typeof ApprovalErrorCode)[keyof typeof ApprovalErrorCode];

export const ApprovalErrors = {
  notFound: (what: string) => new DomainError(ApprovalErrorCode.NotFound, `approval ${what} not found`, { approval: what }, 'not_found'),
  conflict: (code: ApprovalErrorCode, message: string, details: Record<string, unknown> = {}) => new DomainError(code, message, details),
  forbidden: (code: ApprovalErrorCode, message: string, details: Record<string, unknown> = {}) => new DomainError(code, message, details, 'forbidden'),
  invalid: (field: string, reason: string) => new DomainError(ApprovalErrorCode.Invalid, `${field}: ${reason}`, { field, reason }, 'invalid'),
};
