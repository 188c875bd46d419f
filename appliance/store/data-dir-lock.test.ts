import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { guardPid, releasePid } from '../../bin/demo/exit-guard.js'
import { acquireDataDirLock, HOLDER_FILE, LOCK_FILE, readLockHolder, readProcessStartTicks } from './data-dir-lock.js'
import { DataDirLockedError } from './errors.js'

const MODULE = fileURLToPath(new URL('./data-dir-lock.ts', import.meta.url))

let dir: string
const children: ChildProcess[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lock-test-'))
})
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r))
      c.kill('SIGKILL')
      await gone
    }
  }
  rmSync(dir, { recursive: true, force: true })
})

/** Another process that takes the lock and holds it until killed; resolves once it holds it. */
async function holdInChild(dataDir: string): Promise<ChildProcess> {
  const code = `import { acquireDataDirLock } from ${JSON.stringify(MODULE)}
// The handle is dropped on purpose: the lock must outlive garbage collection of it.
acquireDataDirLock(${JSON.stringify(dataDir)}, 'appliance run'); globalThis.gc?.(); process.stdout.write('held\\n'); setInterval(() => {}, 1 << 30)`
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })
  guardPid(child.pid)
  child.once('exit', () => releasePid(child.pid))
  children.push(child)
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve())
    child.once('exit', (c) => reject(new Error(`lock holder exited ${c}: ${err}`)))
  })
  return child
}

function lockedError(fn: () => unknown): DataDirLockedError {
  try {
    fn()
  } catch (err) {
    if (err instanceof DataDirLockedError) return err
    throw err
  }
  throw new Error('expected store.locked')
}

describe('acquireDataDirLock', () => {
  it('refuses a second lock in the same process, naming this pid, and allows one after release', () => {
    const lock = acquireDataDirLock(dir, 'appliance run')
    const err = lockedError(() => acquireDataDirLock(dir, 'appliance cleanup'))
    expect(err.code).toBe('store.locked')
    expect(err.message).toMatch(new RegExp(`^data dir ${dir} is in use by dpuctl appliance run \\(pid ${process.pid}, since `))
    // The refused attempt closed its own connection without dropping the first one's lock.
    expect(() => acquireDataDirLock(dir, 'appliance cleanup')).toThrow(DataDirLockedError)
    lock.release()
    expect(existsSync(join(dir, HOLDER_FILE))).toBe(false)
    const again = acquireDataDirLock(dir, 'appliance cleanup')
    expect(JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'appliance cleanup' })
    again.release()
    again.release()
  })

  it('refuses while another process holds it, and is free again after that process is killed with SIGKILL', async () => {
    const child = await holdInChild(dir)
    const err = lockedError(() => acquireDataDirLock(dir, 'appliance run'))
    expect(err.message).toContain(`(pid ${child.pid}, since `)
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
    // The holder file outlives a killed holder, but names nobody: that pid is gone.
    expect(existsSync(join(dir, HOLDER_FILE))).toBe(true)
    expect(readLockHolder(dir)).toBeUndefined()
    const lock = acquireDataDirLock(dir, 'appliance run')
    expect(readLockHolder(dir)?.pid).toBe(process.pid)
    lock.release()
  })

  it('names no holder when the holder file points at a live process that did not write it', async () => {
    const child = await holdInChild(dir)
    // pid 1 is alive, but its start time differs from the one recorded: pid reuse must not be reported.
    writeFileSync(join(dir, HOLDER_FILE), JSON.stringify({ pid: 1, startTicks: '1', command: 'appliance run', since: 'x' }))
    expect(lockedError(() => acquireDataDirLock(dir, 'appliance run')).message).toContain('another process (its pid is not known)')
    child.kill('SIGKILL')
  })

  it('reports a lock file that is not a SQLite database as store.io, without touching it', () => {
    writeFileSync(join(dir, LOCK_FILE), 'not a database, just some text long enough to have a header '.repeat(4))
    expect(() => acquireDataDirLock(dir, 'appliance run')).toThrow(expect.objectContaining({ code: 'store.io', message: expect.stringMatching(/cannot lock data dir/) }))
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toMatch(/^not a database/)
  })

  it('reads the start time of a live process and none for a dead pid', () => {
    expect(readProcessStartTicks(process.pid)).toMatch(/^\d+$/)
    expect(readProcessStartTicks(2 ** 22 + 1)).toBeNull()
  })
})
