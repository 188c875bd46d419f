/**
 * Last line of defence against leaks: processes a test helper started (appliances, detached OVS daemons) are
 * killed when the test process exits, even if a test file's teardown never ran (a crash, a broken hook, a
 * worker killed at timeout). Helpers still stop what they start; this only catches what they could not.
 */
const pids = new Set<number>()
let installed = false

function killAll(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  pids.clear()
}

export function guardPid(pid: number | undefined): void {
  if (pid === undefined) return
  pids.add(pid)
  if (!installed) {
    installed = true
    process.once('exit', killAll)
  }
}

export function releasePid(pid: number | undefined): void {
  if (pid !== undefined) pids.delete(pid)
}
