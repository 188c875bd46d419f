import { describe, expect, it } from 'vitest'
import { Hold } from './hold.js'

describe('Hold', () => {
  it('lets wait() through at once when open, and only after the window when closed', async () => {
    const hold = new Hold()
    const order: string[] = []
    await hold.wait()
    let finish!: () => void
    const window = hold.during(async () => {
      order.push('window start')
      await new Promise<void>((r) => (finish = r))
      order.push('window end')
      return 42
    })
    const waiter = hold.wait().then(() => order.push('waiter'))
    await new Promise((r) => setImmediate(r))
    expect(order).toEqual(['window start'])
    finish()
    expect(await window).toBe(42)
    await waiter
    expect(order).toEqual(['window start', 'window end', 'waiter'])
    await hold.wait()
  })

  it('opens again when the work fails, and serialises overlapping windows', async () => {
    const hold = new Hold()
    await expect(hold.during(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await hold.wait()
    const order: number[] = []
    const a = hold.during(async () => {
      await new Promise((r) => setTimeout(r, 20))
      order.push(1)
    })
    const b = hold.during(async () => {
      order.push(2)
    })
    await Promise.all([a, b, hold.wait()])
    expect(order).toEqual([1, 2])
  })
})
