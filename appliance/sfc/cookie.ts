/**
 * One cookie per chain: FNV-1a 64 of `<namespace>/<name>`, as DPF's sfc-controller computes it, so flows written
 * by either controller for the same chain carry the same cookie and `dump-flows cookie=<c>/-1` finds a chain.
 */
const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK64 = 0xffffffffffffffffn

export function chainCookie(namespace: string, name: string): bigint {
  let h = FNV_OFFSET
  for (const byte of Buffer.from(`${namespace}/${name}`, 'utf8')) {
    h ^= BigInt(byte)
    h = (h * FNV_PRIME) & MASK64
  }
  return h
}

export function formatCookie(cookie: bigint): string {
  return `0x${cookie.toString(16)}`
}
