import { STATUS_CODES } from 'node:http';

/**
 * The machine-readable `code` of every error body, snake_case, with the status it comes with. Clients branch on the
 * code, never on the message (whose wording may change). docs/agent-api.md lists them: keep both in step.
 */
export const ERROR_CODES = {
  invalid_input: 400,
  invalid_json: 400,
  empty_body: 400,
  unauthorized: 401,
  forbidden: 403,
  scope_forbidden: 403,
  user_forbidden: 403,
  not_found: 404,
  session_user_conflict: 409,
  reindex_conflict: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  tenant_busy: 429,
  internal_error: 500,
  job_failed: 502,
  unavailable: 503,
  redis_unavailable: 503,
  overloaded: 503,
  request_timeout: 503,
  not_ready: 503,
  job_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The code of an HTTP error that names none: the first code of its status, or its reason phrase in snake_case. */
export function codeOfStatus(status: number): string {
  const known = Object.entries(ERROR_CODES).find(([, s]) => s === status)?.[0];
  return known ?? (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

/** Every error answer of the API. */
export interface ErrorBodyShape {
  statusCode: number;
  /** The HTTP reason phrase. */
  error: string;
  code: string;
  /** One message, or one per invalid field. */
  message: string | string[];
}

export const errorBody = (statusCode: number, code: string, message: string | string[], details: Record<string, unknown> = {}): ErrorBodyShape => ({
  statusCode,
  error: STATUS_CODES[statusCode] ?? 'Error',
  code,
  message,
  ...details,
});

/** An error's HTTP answer: its status, its body and its headers (see errorAnswer). */
export interface ErrorAnswer {
  status: number;
  body: ErrorBodyShape;
  headers: Record<string, string>;
}
