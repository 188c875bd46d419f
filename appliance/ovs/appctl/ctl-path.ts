/**
 * Where ovs-vswitchd's unixctl socket is. A packaged vswitchd names it `<rundir>/ovs-vswitchd.<pid>.ctl` (pid from
 * `<rundir>/ovs-vswitchd.pid`); one started with `--unixctl=PATH` (our test sandbox) uses that path, conventionally
 * `<rundir>/ovs-vswitchd.ctl`. Resolved per use: the pid changes when vswitchd restarts.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppctlUnavailableError } from './errors.js'

/** The control socket: `explicit` if given, else the pid-named socket, else `ovs-vswitchd.ctl`, in `rundir`. */
export function resolveVswitchdCtl(rundir: string, explicit?: string): string {
  if (explicit) return explicit
  const candidates: string[] = []
  try {
    const pid = Number.parseInt(readFileSync(join(rundir, 'ovs-vswitchd.pid'), 'utf8').trim(), 10)
    if (Number.isFinite(pid) && pid > 0) candidates.push(join(rundir, `ovs-vswitchd.${pid}.ctl`))
  } catch {
    // no pid file: vswitchd not running from this rundir, or started without --pidfile
  }
  candidates.push(join(rundir, 'ovs-vswitchd.ctl'))
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new AppctlUnavailableError(`no ovs-vswitchd control socket in ${rundir} (looked for ${candidates.join(', ')}); set --ovs-ctl`, { rundir })
  return found
}
