/**
 * `dpuctl get ... | head -1`: when the reader of stdout goes away, the next write fails with EPIPE, which node
 * raises as an 'error' event: unhandled, it prints a stack and exits 1. kubectl just stops, so do we: EPIPE is
 * swallowed (later writes to the destroyed stream are dropped silently), the command ends with its own exit code,
 * and a long-running one (`get -w`) stops when it sees the stream close.
 */

/** Makes a closed pipe on `stream` end output quietly; any other write error is thrown as before. */
export function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return
    throw err
  })
}
