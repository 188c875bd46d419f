/**
 * Splits the OVSDB byte stream into JSON texts. JSON-RPC over a stream has no delimiters (RFC 7047 §2): messages
 * are objects back to back, so we count `{`/`[` depth outside strings (honouring `\` escapes) and cut when it
 * returns to zero. Scanning bytes is safe for UTF-8 because every byte of a multi-byte sequence is >= 0x80.
 *
 * State survives chunk boundaries at any byte, so a message may arrive one byte at a time. The bytes of an
 * unfinished message are bounded by `maxMessageBytes`: past it the splitter throws and must be discarded with
 * its connection (nothing is resynchronised inside a broken stream).
 */
import { OvsdbMessageTooLargeError, OvsdbProtocolError } from './errors.js'

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

export class JsonStreamSplitter {
  private readonly maxMessageBytes: number
  /** Parts of the current, unfinished message. */
  private parts: Buffer[] = []
  private partBytes = 0
  private depth = 0
  private inString = false
  private escaped = false
  private failed = false

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  }

  /** Bytes held for an unfinished message (never more than `maxMessageBytes`). */
  get bufferedBytes(): number {
    return this.partBytes
  }

  /** Feed one chunk; returns the parsed messages it completed. Throws a protocol error on a broken stream. */
  push(chunk: Buffer): unknown[] {
    if (this.failed) throw new OvsdbProtocolError('the JSON stream already failed; the connection must be dropped')
    const out: unknown[] = []
    let start = this.depth > 0 ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!
      if (this.depth === 0) {
        if (isJsonWhitespace(byte)) continue
        if (byte !== OPEN_BRACE && byte !== OPEN_BRACKET) {
          this.fail()
          throw new OvsdbProtocolError(`unexpected byte 0x${byte.toString(16)} between JSON-RPC messages`, {
            near: chunk.subarray(i, i + 40).toString('utf8'),
          })
        }
        start = i
        this.depth = 1
        continue
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (byte === BACKSLASH) this.escaped = true
        else if (byte === QUOTE) this.inString = false
        continue
      }
      if (byte === QUOTE) this.inString = true
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.depth++
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth--
        if (this.depth === 0) {
          const tail = chunk.subarray(start, i + 1)
          this.checkSize(this.partBytes + tail.length)
          const text = this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail])
          this.parts = []
          this.partBytes = 0
          start = -1
          out.push(this.parse(text))
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start)
      this.checkSize(this.partBytes + rest.length)
      // Copy: the socket may reuse its chunk buffers.
      this.parts.push(Buffer.from(rest))
      this.partBytes += rest.length
    }
    return out
  }

  /** True when a message has started but not ended (a close now means a truncated message). */
  get midMessage(): boolean {
    return this.depth > 0
  }

  private checkSize(size: number): void {
    if (size > this.maxMessageBytes) {
      this.fail()
      throw new OvsdbMessageTooLargeError(this.maxMessageBytes, size)
    }
  }

  private fail(): void {
    this.failed = true
    this.parts = []
    this.partBytes = 0
  }

  private parse(text: Buffer): unknown {
    try {
      return JSON.parse(text.toString('utf8'))
    } catch (err) {
      this.fail()
      throw new OvsdbProtocolError(`malformed JSON from ovsdb-server: ${(err as Error).message}`, { near: text.subarray(0, 80).toString('utf8') }, err)
    }
  }
}
