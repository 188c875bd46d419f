import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../env.js'
import { UnauthorizedError } from '../../errors.js'

/**
 * Compares in constant time whatever the lengths: both sides are hashed to 32 bytes first, so neither the
 * content nor the length of the expected token leaks through timing.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b) && given.length === expected.length
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
