/** The one generic of the app: variables the middleware set, typed where they are read. */
import type { Logger } from '../observe/index.js'

export type AppEnv = {
  Variables: {
    requestId: string
    log: Logger
    /** Set by the body-limit middleware for requests served by node; read through `readBodyText`. */
    bodyText?: () => Promise<string>
  }
}
