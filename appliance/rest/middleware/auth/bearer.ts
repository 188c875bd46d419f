import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { LogLimiter } from '../../../../api/support/log-limit.js'
import { clientAddress } from '../../client-address.js'
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

/**
 * Requires `Authorization: Bearer <token>`; `token` is asked per request, so a rotated file is re-read and the
 * old token stops working at once. A `token` that throws (the file became unusable) refuses every request.
 * Refusals are logged with the client and the reason, once a minute per client and reason.
 */
export function bearerAuth({ token }: { token: () => string }): MiddlewareHandler<AppEnv> {
  const refusals = new LogLimiter()
  return async function bearerAuth(c, next) {
    const refuse = (reason: string, level: 'warn' | 'error' = 'warn'): never => {
      const client = clientAddress(c)
      const log = c.get('log')
      if (log) refusals.log(log, level, `${client}\0${reason}`, { client, method: c.req.method, path: c.req.path, reason }, 'request refused: 401')
      throw new UnauthorizedError(reason)
    }
    const header = c.req.header('authorization')
    if (header === undefined) refuse('no Authorization header')
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header!)
    if (!m) refuse('Authorization is not a bearer token')
    let expected: string
    try {
      expected = token()
    } catch (err) {
      return refuse(`the token file is unusable: ${(err as Error).message}`, 'error')
    }
    if (!tokensEqual(m![1]!, expected)) refuse('token does not match')
    await next()
  }
}
