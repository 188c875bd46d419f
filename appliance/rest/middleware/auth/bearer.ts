import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../env.js'
import { UnauthorizedError } from '../../errors.js'

/**
 * Compares in constant time whatever the lengths: both sides are hashed to 32 bytes first, so neither the
 * content nor the length of the expected token leaks through timing.
 */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), expectedDigest(expected)) && given.length === expected.length
}

const sha256 = (s: string) => createHash('sha256').update(s).digest()
/** The expected token rarely changes (only when its file is rotated), so its digest is kept, not recomputed. */
let cached: { token: string; digest: Buffer } | undefined
function expectedDigest(token: string): Buffer {
  if (cached?.token !== token) cached = { token, digest: sha256(token) }
  return cached.digest
}

/** Requires `Authorization: Bearer <token>`; `token` is read per request so a rotated file can be re-read. */
export const bearerAuth = ({ token }: { token: () => string }): MiddlewareHandler<AppEnv> =>
  async function bearerAuth(c, next) {
    const header = c.req.header('authorization')
    if (header === undefined) throw new UnauthorizedError('no Authorization header')
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) throw new UnauthorizedError('Authorization is not a bearer token')
    if (!tokensEqual(m[1]!, token())) throw new UnauthorizedError('token does not match')
    await next()
  }
