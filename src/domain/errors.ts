// One error type for everything a caller can get wrong or race on. `status` is the HTTP status
// the API maps it to; `hint` is the one-line "what to do" every surface prints.
export type ErrorCode =
  | 'bad_request'
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'stale_epoch'
  | 'payload_too_large'
  | 'unsupported'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  stale_epoch: 409,
  payload_too_large: 413,
  unsupported: 415,
  method_not_allowed: 405,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; field?: string; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'GantryError';
    this.code = code;
    this.hint = opts.hint;
    this.field = opts.field;
    this.details = opts.details;
  }

  get status(): number {
    return statusOf[this.code];
  }
}

export const notFound = (what: string, id: string, hint?: string): GantryError =>
  new GantryError('not_found', `${what} ${id} not found`, { hint: hint ?? `list them with \`gantry ls\`` });

export const conflict = (message: string, hint?: string, details?: Record<string, unknown>): GantryError =>
  new GantryError('conflict', message, { ...(hint ? { hint } : {}), ...(details ? { details } : {}) });

export const isGantryError = (e: unknown): e is GantryError => e instanceof GantryError;
