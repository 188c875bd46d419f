import { describe, expect, it } from 'vitest'
import { ChainsProgress } from './chains-progress.js'

const pass = (...installed: boolean[]) => ({ report: () => undefined, installed: new Map(installed.map((ok, i) => [`br${i}`, ok])) })

describe('ChainsProgress', () => {
  it('resolves a wait when a pass that read the store at or after the write confirms every bridge', async () => {
    const p = new ChainsProgress()
    const w = p.waitInstalled(5, 5000)
    p.passed(4, pass(true))
    p.passed(6, pass(true, false)) // one bridge still pending: not installed
    expect(p.installedResourceVersion).toBe(4)
    p.passed(7, pass(true, true))
    expect(await w).toBe(true)
    expect(p.installedResourceVersion).toBe(7)
    expect(await p.waitInstalled(7, 10)).toBe(true)
  })

  it('never goes backwards and times out waits that are not reached', async () => {
    const p = new ChainsProgress()
    p.passed(9, pass(true))
    p.passed(3, pass(true))
    expect(p.installedResourceVersion).toBe(9)
    expect(await p.waitInstalled(10, 20)).toBe(false)
    p.passed(11, undefined) // OVSDB not connected: the pass did nothing
    expect(p.installedResourceVersion).toBe(9)
  })

  it('ends pending waits with false on close', async () => {
    const p = new ChainsProgress()
    const w = p.waitInstalled(2, 5000)
    p.close()
    expect(await w).toBe(false)
  })
})
