/**
 * Errors of the image builders (BFB codec, appliance bundle, bf.cfg, RHCOS layer). Every BFB error names the
 * image and the byte offset where the stream stopped making sense, so an operator can look at it with `xxd`.
 */
import { ApplianceError, type ErrorContext } from '../api/errors.js'

/** Where in a BFB stream a problem sits: the image (if any) and the byte offset of the bad part. */
export interface BfbPosition {
  offset: number
  imageId?: number
  imageName?: string
  imageIndex?: number
}

function at(pos: BfbPosition): string {
  const image = pos.imageId === undefined ? '' : `image ${pos.imageId}${pos.imageName ? ` (${pos.imageName})` : ''}, `
  return `${image}offset ${pos.offset}`
}

/** The stream does not follow the BFB layout (bad magic, short header, truncated payload or padding). */
export class BfbFormatError extends ApplianceError {
  readonly position: BfbPosition
  constructor(message: string, position: BfbPosition, context: ErrorContext = {}) {
    super('bfb.format', `${message} [${at(position)}]`, { context: { ...position, ...context } })
    this.position = position
  }
}

/** An image's CRC-32 (payload plus padding) does not match its header. */
export class BfbCrcError extends ApplianceError {
  readonly position: BfbPosition
  constructor(
    position: BfbPosition,
    readonly expected: number,
    readonly actual: number,
  ) {
    super('bfb.crc', `CRC mismatch: header says 0x${hex32(expected)}, payload and padding give 0x${hex32(actual)} [${at(position)}]`, { context: { ...position, expected, actual } })
    this.position = position
  }
}

/** Reading or writing a BFB file failed at the OS level. */
export class BfbIoError extends ApplianceError {
  constructor(message: string, path: string, cause?: unknown) {
    super('bfb.io', `${message}: ${path}${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      context: { path },
      cause,
      retryable: true,
    })
  }
}

/** A build input (part file, flavor, config, bundle directory) is missing or invalid. */
export class ImageInputError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, issues: readonly { path: string; message: string }[] = []) {
    super('image.input', message, { context, issues })
  }
}

/** A native module or the Node runtime was built for another CPU than the bundle's target. */
export class ArchMismatchError extends ApplianceError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly found: string,
    hint = '',
  ) {
    super('image.arch-mismatch', `${file}: built for ${found}, bundle targets ${expected}${hint ? `; ${hint}` : ''}`, {
      context: { file, expected, found },
    })
  }
}

export function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}
