/**
 * Facts the backends read from the host kernel: whether a pid is still the process we started (its start
 * time, /proc/<pid>/stat field 22, changes when the pid is reused) and which network namespace a
 * /run/netns name or a process is in (the nsfs inode).
 */
import { readFile, stat } from 'node:fs/promises'

export const NETNS_DIR = '/run/netns'

export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie: exited, not yet reaped), T... */
  state: string
  /** Field 22: start time in clock ticks after boot, as a decimal string (it may exceed 2^53 in theory). */
  startTime: string
}

/** /proc/<pid>/stat fields 3 and 22, or undefined when the pid does not exist. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Field 2 (comm) is parenthesised and may itself contain spaces and ')': split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const state = rest[0]
  const startTime = rest[19]
  if (state === undefined || startTime === undefined) return undefined
  return { state, startTime }
}

/** Whether `pid` is alive (not a zombie) and is the process that had `startTime` when we recorded it. */
export async function isSameLiveProcess(pid: number, startTime: string): Promise<boolean> {
  const s = await readProcStat(pid)
  return s !== undefined && s.state !== 'Z' && s.state !== 'X' && s.startTime === startTime
}

/** The nsfs inode of a path (`/run/netns/<name>` or `/proc/<pid>/ns/net`), or undefined when absent. */
export async function readNsInode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino
  } catch {
    return undefined
  }
}

/**
 * Whether /run/netns/<name> is a live namespace bind mount. After a host restart the file can be left behind
 * (tmpfs /run is usually cleared, but not always) without the mount: a plain file, not nsfs (inode of an nsfs
 * is the namespace id, and the file on tmpfs has a different device). `ip netns` then fails to enter it.
 */
export async function isNetnsMounted(name: string): Promise<boolean> {
  const [own, self] = await Promise.all([stat(`${NETNS_DIR}/${name}`).catch(() => undefined), stat(NETNS_DIR).catch(() => undefined)])
  return own !== undefined && self !== undefined && own.dev !== self.dev
}
