import type { MiddlewareHandler } from 'hono'
import { bodyLimit as honoBodyLimit } from 'hono/body-limit'
import type { AppEnv } from '../../env.js'
import { BodyTooLargeError } from '../../errors.js'

export const DEFAULT_BODY_LIMIT = 1024 * 1024

/** Refuses bodies over `maxBytes` (by Content-Length, or while streaming a chunked body) with `rest.body-too-large`. */
export const bodyLimit = ({ maxBytes = DEFAULT_BODY_LIMIT }: { maxBytes?: number } = {}): MiddlewareHandler<AppEnv> => {
  const inner = honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new BodyTooLargeError(maxBytes)
    },
  })
  return async function bodyLimit(c, next) {
    // GET and HEAD carry no body; skipping them also spares the node adapter from building a full fetch Request
    // (the inner check reads `raw.body`), which is most of a small GET's cost.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    return inner(c, next)
  }
}
