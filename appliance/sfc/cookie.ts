/**
 * One cookie per chain: FNV-1a 64 of `<namespace>/<name>`, as DPF's sfc-controller computes it, so flows written
 * by either controller for the same chain carry the same cookie and `dump-flows cookie=<c>/-1` finds a chain.
 */
const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK64 = 0xffffffffffffffffn

/** FNV-1a 64 of `bytes`; exported so tests can check it against the published FNV test vectors. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET
  for (const byte of bytes) {
    h ^= BigInt(byte)
    h = (h * FNV_PRIME) & MASK64
  }
  return h
}

const FNV32_OFFSET = 0x811c9dc5
const FNV32_PRIME = 0x01000193

/** FNV-1a 32 of `bytes` (Go's `hash/fnv.New32a`): DPF's CNI derives a port's `ofport_request` from it. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV32_OFFSET
  for (const byte of bytes) h = Math.imul(h ^ byte, FNV32_PRIME) >>> 0
  return h
}

export function chainCookie(namespace: string, name: string): bigint {
  return fnv1a64(Buffer.from(`${namespace}/${name}`, 'utf8'))
}

export function formatCookie(cookie: bigint): string {
  return `0x${cookie.toString(16)}`
}
