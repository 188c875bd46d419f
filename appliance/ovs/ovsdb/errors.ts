/**
 * Errors of the OVSDB client. Two families that callers must tell apart:
 * - operation errors: the server ran the transaction and one operation failed (RFC 7047 §4.1.3 error strings plus
 *   OVS's extras). One class per string, each carrying the op index, a summary of the op and the server's details.
 * - client errors: not connected, timed out, protocol violations, schema mismatch. The connection-level ones are
 *   retryable because the client reconnects on its own.
 */
import { ApplianceError, type ErrorContext, type FieldIssue } from '../../../api/errors.js'
import type { ErrorCode } from '../../../api/error-codes.js'

/** The server's error object (RFC 7047 §3.1 `<error>`). */
export interface OvsdbErrorObject {
  error: string
  details?: string
  syntax?: string
}

/** What an operation error reports about the op that failed; never the whole row (it may hold 10k map entries). */
export interface OperationSummary {
  op: string
  table?: string
  where?: unknown
  uuidName?: string
  /** Column names (insert/update row, mutate mutations, wait columns). */
  columns?: string[]
  /** `name` of the row when the op writes one: what a human looks for. */
  rowName?: unknown
  /** The op was blamed for a failure reported at commit (the extra trailing result). */
  atCommit?: boolean
}

export class OvsdbOperationError extends ApplianceError {
  /** The RFC 7047 error string (`constraint violation`, `timed out`...). */
  readonly rfcError: string
  readonly details: string | undefined
  /** Index of the failing operation; equals `ops.length` for a failure at commit (the extra trailing result). */
  readonly index: number
  readonly operation: OperationSummary | undefined

  constructor(error: OvsdbErrorObject, index: number, operation: OperationSummary | undefined, options: { code?: ErrorCode; retryable?: boolean } = {}) {
    const where = operation
      ? `${operation.atCommit ? 'commit, caused by ' : ''}op ${index} (${operation.op}${operation.table ? ` ${operation.table}` : ''}${operation.rowName !== undefined ? ` ${JSON.stringify(operation.rowName)}` : ''})`
      : `commit (after op ${index - 1})`
    super(options.code ?? 'ovsdb.operation-failed', `${where}: ${error.error}${error.details ? `: ${error.details}` : ''}`, {
      context: { index, operation, error: error.error, details: error.details, syntax: error.syntax },
      retryable: options.retryable ?? false,
    })
    this.rfcError = error.error
    this.details = error.details
    this.index = index
    this.operation = operation
  }
}

export class OvsdbReferentialIntegrityError extends OvsdbOperationError {}
export class OvsdbConstraintViolationError extends OvsdbOperationError {}
export class OvsdbResourcesExhaustedError extends OvsdbOperationError {}
export class OvsdbIoError extends OvsdbOperationError {}
export class OvsdbDuplicateUuidNameError extends OvsdbOperationError {}
export class OvsdbDomainError extends OvsdbOperationError {}
export class OvsdbRangeError extends OvsdbOperationError {}
/** A `wait` did not hold: the rows changed since they were read (optimistic concurrency); re-read and retry. */
export class OvsdbTimedOutError extends OvsdbOperationError {}
export class OvsdbNotSupportedError extends OvsdbOperationError {}
export class OvsdbAbortedError extends OvsdbOperationError {}
export class OvsdbNotOwnerError extends OvsdbOperationError {}
export class OvsdbSyntaxError extends OvsdbOperationError {}
export class OvsdbUnknownColumnError extends OvsdbOperationError {}
export class OvsdbInternalError extends OvsdbOperationError {}
/** OVS `ovsdb error` (e.g. duplicate index key detected outside the constraint check). */
export class OvsdbServerError extends OvsdbOperationError {}
export class OvsdbPermissionError extends OvsdbOperationError {}
export class OvsdbDuplicateUuidError extends OvsdbOperationError {}
/** An error string this client does not know; kept rather than dropped. */
export class OvsdbUnknownOperationError extends OvsdbOperationError {}

type OperationErrorClass = new (error: OvsdbErrorObject, index: number, operation: OperationSummary | undefined, options?: { code?: ErrorCode; retryable?: boolean }) => OvsdbOperationError

/** RFC 7047 §4.1.3 and ovsdb-server(7) error strings -> class, code, and whether a retry may succeed. */
export const OPERATION_ERRORS: Readonly<Record<string, { cls: OperationErrorClass; code?: ErrorCode; retryable: boolean }>> = {
  'referential integrity violation': { cls: OvsdbReferentialIntegrityError, retryable: false },
  'constraint violation': { cls: OvsdbConstraintViolationError, retryable: false },
  'resources exhausted': { cls: OvsdbResourcesExhaustedError, retryable: true },
  'I/O error': { cls: OvsdbIoError, retryable: true },
  'duplicate uuid-name': { cls: OvsdbDuplicateUuidNameError, retryable: false },
  'domain error': { cls: OvsdbDomainError, retryable: false },
  'range error': { cls: OvsdbRangeError, retryable: false },
  'timed out': { cls: OvsdbTimedOutError, code: 'ovsdb.conflict', retryable: true },
  'not supported': { cls: OvsdbNotSupportedError, retryable: false },
  aborted: { cls: OvsdbAbortedError, retryable: false },
  'not owner': { cls: OvsdbNotOwnerError, retryable: true },
  'syntax error': { cls: OvsdbSyntaxError, retryable: false },
  'unknown column': { cls: OvsdbUnknownColumnError, code: 'ovsdb.schema', retryable: false },
  'internal error': { cls: OvsdbInternalError, retryable: false },
  'ovsdb error': { cls: OvsdbServerError, retryable: false },
  'permission error': { cls: OvsdbPermissionError, retryable: false },
  'duplicate uuid': { cls: OvsdbDuplicateUuidError, retryable: false },
}

/** Build the typed error for one failed operation result. */
export function buildOperationError(error: OvsdbErrorObject, index: number, operation: OperationSummary | undefined): OvsdbOperationError {
  const entry = OPERATION_ERRORS[error.error]
  if (!entry) return new OvsdbUnknownOperationError(error, index, operation)
  return new entry.cls(error, index, operation, { code: entry.code, retryable: entry.retryable })
}

/** The socket is not connected (yet, or any more); the client reconnects by itself. */
export class OvsdbNotConnectedError extends ApplianceError {
  constructor(message = 'not connected to ovsdb-server', context: ErrorContext = {}, cause?: unknown) {
    super('ovsdb.unavailable', message, { context, cause, retryable: true })
  }
}

/** The connection dropped with this request in flight: a transact may or may not have committed. */
export class OvsdbDisconnectedError extends ApplianceError {
  /** `retryable: false` for a transaction that a repeat could apply twice (see `isRetrySafe` in txn.ts). */
  constructor(method: string, cause?: unknown, options: { retryable?: boolean } = {}) {
    super('ovsdb.unavailable', `connection to ovsdb-server lost while ${method} was in flight (its outcome is unknown)`, {
      context: { method },
      cause,
      retryable: options.retryable ?? true,
    })
  }
}

/** `close()` was called: nothing will reconnect. */
export class OvsdbClosedError extends ApplianceError {
  constructor() {
    super('ovsdb.unavailable', 'the OVSDB client is closed', { retryable: false })
  }
}

export class OvsdbTimeoutError extends ApplianceError {
  constructor(what: string, timeoutMs: number, context: ErrorContext = {}, options: { retryable?: boolean; detail?: string } = {}) {
    super('ovsdb.timeout', `${what} did not complete within ${timeoutMs} ms${options.detail ? `; ${options.detail}` : ''}`, {
      context: { ...context, timeoutMs },
      retryable: options.retryable ?? true,
    })
  }
}

/**
 * A transact timed out and was cancelled (RFC 7047 §4.1.4). `committed`: false when ovsdb-server confirmed the
 * cancel ("canceled": nothing was applied, a retry is safe); undefined when it did not answer in time, so the
 * transaction may still commit later: then it is retryable only when a repeat cannot apply it twice (a `wait` or
 * `assert` guard, or idempotent ops only).
 */
export class OvsdbTransactTimeoutError extends OvsdbTimeoutError {
  readonly committed: false | undefined
  constructor(timeoutMs: number, committed: false | undefined, options: { retryable: boolean; ops: number }) {
    const detail =
      committed === false
        ? 'cancelled: ovsdb-server confirmed nothing was committed'
        : `cancel sent but not answered: the transaction may still commit${options.retryable ? '' : ' (not retried: it is not idempotent and has no wait/assert guard)'}`
    super('OVSDB transact', timeoutMs, { committed: committed ?? 'unknown', ops: options.ops }, { retryable: committed === false || options.retryable, detail })
    this.committed = committed
  }
}

/**
 * The peer broke the wire protocol (not JSON, oversized message, reply to an unknown id...). The client drops the
 * connection and reconnects, so a retry may succeed.
 */
export class OvsdbProtocolError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super('ovsdb.protocol', message, { context, cause, retryable: true })
  }
}

/** A message grew past `maxMessageBytes` before it ended; the buffer is dropped, never grown further. */
export class OvsdbMessageTooLargeError extends OvsdbProtocolError {
  constructor(limit: number, seen: number) {
    super(`OVSDB message too large: more than maxMessageBytes=${limit} (${seen} bytes buffered without the message ending)`, { limit, seen })
  }
}

/** The server answered an RPC with an `error` (not a per-operation error): e.g. unknown database or method. */
export class OvsdbRpcError extends ApplianceError {
  readonly rpcError: unknown
  constructor(method: string, error: unknown) {
    const text = typeof error === 'string' ? error : typeof error === 'object' && error && 'error' in error ? String((error as { error: unknown }).error) : JSON.stringify(error)
    super('ovsdb.protocol', `${method} failed: ${text}`, { context: { method, error }, retryable: false })
    this.rpcError = error
  }
}

export class OvsdbSchemaError extends ApplianceError {
  constructor(message: string, options: { context?: ErrorContext; issues?: readonly FieldIssue[]; cause?: unknown } = {}) {
    super('ovsdb.schema', message, { ...options, retryable: false })
  }
}

/** A value does not fit its column type (encode side) or the server sent one that does not (decode side). */
export class OvsdbNotationError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}) {
    super('ovsdb.protocol', message, { context, retryable: false })
  }
}
