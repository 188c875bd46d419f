/**
 * Process-wide last resort for the daemons (appliance, hub): an unhandled rejection or uncaught exception means
 * some state is now unknown, so we log it as one structured line and exit non-zero for the supervisor to
 * restart us, instead of running on silently. Shared by both composition roots (bin/), which must not import
 * each other's trees.
 */
import type { Logger } from './logger.js'

/** EX_SOFTWARE (sysexits.h): an internal error; a supervisor restarts the daemon. */
export const CRASH_EXIT_CODE = 70

let installed = false

/**
 * Install the handlers once per process (later calls are ignored: the first daemon logger wins). The logger
 * must write synchronously (createLogger's default) so the line is out before the process exits.
 */
export function installCrashHandlers(log: Logger, exit: (code: number) => never = process.exit): void {
  if (installed) return
  installed = true
  const crash =
    (kind: 'unhandledRejection' | 'uncaughtException') =>
    (reason: unknown): void => {
      try {
        log.fatal({ err: reason, kind }, `${kind}: exiting for the supervisor to restart us`)
      } finally {
        exit(CRASH_EXIT_CODE)
      }
    }
  process.on('unhandledRejection', crash('unhandledRejection'))
  process.on('uncaughtException', crash('uncaughtException'))
}
