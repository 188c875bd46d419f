/**
 * One process per data directory. Two appliances on one data dir both reconcile the same switch and undo each
 * other's work (ports removed and re-added twice a second), and `appliance cleanup` must not tear down what a
 * running appliance is using; both take this lock first and refuse to start without it.
 *
 * The lock is SQLite's own: `<data-dir>/appliance.lock` is a tiny database held with `locking_mode=EXCLUSIVE`
 * after one write, i.e. a POSIX `fcntl` write lock that stays until the connection closes. Why this and not:
 *   - an `O_EXCL` pid file: after `kill -9` the file stays, and taking over a stale one is racy (two starts can
 *     both decide it is stale and both win) and guesses from pid reuse;
 *   - an abstract unix socket (`\0dpu-appliance:<dir>`): released on death too, but scoped to the network
 *     namespace, so an appliance started under `ip netns exec` would not see one started outside it.
 * The kernel drops fcntl locks when the process dies however it dies (SIGKILL included), the lock lives on the
 * directory's file system (the right scope), and SQLite also refuses a second connection in the same process
 * (it tracks its own locks per inode), which plain fcntl would not.
 *
 * `<data-dir>/appliance.pid` says who holds the lock (pid, its kernel start time, command, since), only so a
 * refused start can name the holder; the lock never depends on it. A holder is named only when that pid is alive
 * with the same start time: a file left by a killed holder names nobody.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3, { type Database } from 'better-sqlite3'
import { DataDirLockedError, StoreIoError } from './errors.js'

export const LOCK_FILE = 'appliance.lock'
export const HOLDER_FILE = 'appliance.pid'

export interface LockHolder {
  pid: number
  /** The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): tells pid reuse apart. */
  startTicks: string | null
  /** What holds it, e.g. `appliance run`. */
  command: string
  /** ISO time the lock was taken. */
  since: string
}

export interface DataDirLock {
  readonly dataDir: string
  /** Releases the lock (idempotent). Removes the holder file first, so it never names a process that let go. */
  release(): void
}

/** `/proc/<pid>/stat` field 22 (starttime), or null when the process does not exist or /proc is unavailable. */
export function readProcessStartTicks(pid: number): string | null {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // Field 2 (comm) is parenthesised and may hold spaces or ')': count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return fields[19] ?? null // field 22 overall = index 19 after "pid (comm)"
}

/** The holder the holder file names, if that process is still the one that wrote it. */
export function readLockHolder(dataDir: string): LockHolder | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8'))
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const h = raw as Partial<LockHolder>
  if (typeof h.pid !== 'number' || !Number.isSafeInteger(h.pid) || h.pid <= 0) return undefined
  const ticks = readProcessStartTicks(h.pid)
  if (ticks === null || (h.startTicks != null && h.startTicks !== ticks)) return undefined
  return { pid: h.pid, startTicks: ticks, command: typeof h.command === 'string' ? h.command : 'unknown', since: typeof h.since === 'string' ? h.since : 'unknown' }
}

/**
 * Every lock this process holds. better-sqlite3 closes a connection when its Database is garbage-collected, which
 * would silently drop the lock of a caller that kept no reference to the handle; this set keeps each one alive
 * until `release()`.
 */
const held = new Set<Database>()

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
}

/**
 * Takes the exclusive lock on `dataDir` (which must exist) for `command`, or throws `store.locked` naming the
 * holder when another process (or another lock in this one) has it.
 * @example const lock = acquireDataDirLock('/var/lib/dpu-appliance', 'appliance run'); ...; lock.release()
 */
export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE)
  let db: Database | undefined
  try {
    // timeout 0: a held lock is an answer, not something to wait for.
    db = new BetterSqlite3(path, { timeout: 0 })
    db.pragma('locking_mode = EXCLUSIVE')
    // No journal file: nothing is left on disk to be mistaken for a hot journal after a crash.
    db.pragma('journal_mode = MEMORY')
    // The write makes SQLite take the EXCLUSIVE (fcntl write) lock, which EXCLUSIVE mode then never releases.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (id INTEGER PRIMARY KEY); COMMIT')
  } catch (err) {
    db?.close()
    if (isBusy(err)) throw new DataDirLockedError(dataDir, readLockHolder(dataDir))
    throw new StoreIoError(`cannot lock data dir ${dataDir} (${path}): ${(err as Error).message}`, err)
  }
  const holderPath = join(dataDir, HOLDER_FILE)
  const holder: LockHolder = { pid: process.pid, startTicks: readProcessStartTicks(process.pid), command, since: new Date().toISOString() }
  try {
    // Written whole then renamed, so a refused start never reads half a file.
    writeFileSync(`${holderPath}.tmp`, `${JSON.stringify(holder)}\n`, { mode: 0o644 })
    renameSync(`${holderPath}.tmp`, holderPath)
  } catch (err) {
    db.close()
    throw new StoreIoError(`cannot write ${holderPath}: ${(err as Error).message}`, err)
  }
  const lockDb = db
  held.add(lockDb)
  let released = false
  return {
    dataDir,
    release() {
      if (released) return
      released = true
      rmSync(holderPath, { force: true })
      held.delete(lockDb)
      lockDb.close()
    },
  }
}
