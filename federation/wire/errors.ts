/** Errors of the federation wire layer: framing, decoding, validation and size. */
import { ApplianceError, type FieldIssue } from '../../api/errors.js'

/** Bytes that are not valid CBOR, use an item outside the protocol's subset, or fail message validation. */
export class ProtocolError extends ApplianceError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown; issues?: readonly FieldIssue[] } = {}) {
    super('federation.protocol', message, options)
  }
}

/** A message larger than MAX_MESSAGE_BYTES, refused before it is sent or after it is received. */
export class MessageTooLargeError extends ApplianceError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super('federation.too-large', `message of ${size} bytes exceeds the ${limit}-byte limit`, { context: { size, limit } })
  }
}
