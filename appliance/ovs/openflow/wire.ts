/**
 * Big-endian byte writer and bounds-checked reader. The writer grows one buffer so a 100k-flow bundle is encoded
 * without a Buffer per field; the reader throws `OpenFlowProtocolError` on any read past its end, so a truncated
 * or lying length field is an error, never an out-of-bounds read.
 */
import { OpenFlowEncodeError, OpenFlowProtocolError } from './errors.js'

let lastU64 = 0n
let lastHi = 0
let lastLo = 0

export class Writer {
  buf: Buffer
  pos = 0
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial)
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
  // Byte stores instead of Buffer#writeUInt*BE: those validate every argument, and these run ~30 times per flow
  // mod (a 100k-flow bundle). Same bytes: a store into a Uint8Array keeps the low 8 bits, as `& 0xff` does.
  u8(v: number): void {
    this.room(1)
    this.buf[this.pos++] = v
  }
  u16(v: number): void {
    this.room(2)
    const b = this.buf
    const p = this.pos
    b[p] = v >>> 8
    b[p + 1] = v
    this.pos = p + 2
  }
  u32(v: number): void {
    this.room(4)
    const x = v >>> 0
    const b = this.buf
    const p = this.pos
    b[p] = x >>> 24
    b[p + 1] = x >>> 16
    b[p + 2] = x >>> 8
    b[p + 3] = x
    this.pos = p + 4
  }
  u64(v: bigint): void {
    if (v === 0n) {
      this.zeros(8)
      return
    }
    // The flow mods of a bundle mostly share one cookie: split it into halves once (BigInt shifts allocate).
    if (v !== lastU64) {
      const x = BigInt.asUintN(64, v)
      lastHi = Number(x >> 32n)
      lastLo = Number(x & 0xffffffffn)
      lastU64 = v
    }
    this.u32(lastHi)
    this.u32(lastLo)
  }
  bytes(b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  zeros(n: number): void {
    this.room(n)
    const b = this.buf
    const p = this.pos
    // Padding is a few bytes: a loop beats Buffer#fill's argument checks.
    if (n <= 16) for (let i = 0; i < n; i++) b[p + i] = 0
    else b.fill(0, p, p + n)
    this.pos = p + n
  }
  /** Zero-pad to a multiple of 8 counted from `start`. */
  pad8(start: number): void {
    const rem = (this.pos - start) % 8
    if (rem) this.zeros(8 - rem)
  }
  /** Fill in a length field; a length that does not fit is a message over the OpenFlow limit. */
  patchU16(at: number, v: number): void {
    if (v > 0xffff) throw new OpenFlowEncodeError(`a length of ${v} bytes is over the OpenFlow limit of 65535`, { len: v })
    this.buf.writeUInt16BE(v, at)
  }
  /** A copy of the written bytes (the internal buffer is reused). */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos))
  }
  reset(): void {
    this.pos = 0
  }
}

export class Reader {
  pos: number
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start
  }
  get remaining(): number {
    return this.end - this.pos
  }
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new OpenFlowProtocolError(`truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`, {
        offset: this.pos,
      })
    }
  }
  u8(what = 'u8'): number {
    this.need(1, what)
    return this.buf[this.pos++]!
  }
  u16(what = 'u16'): number {
    this.need(2, what)
    const v = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return v
  }
  u32(what = 'u32'): number {
    this.need(4, what)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }
  u64(what = 'u64'): bigint {
    this.need(8, what)
    const v = this.buf.readBigUInt64BE(this.pos)
    this.pos += 8
    return v
  }
  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }
  skip(n: number, what = 'padding'): void {
    this.need(n, what)
    this.pos += n
  }
  /** A reader over the next `n` bytes; this reader moves past them. */
  sub(n: number, what: string): Reader {
    this.need(n, what)
    const r = new Reader(this.buf, this.pos, this.pos + n)
    this.pos += n
    return r
  }
}
