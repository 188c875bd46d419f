import { describe, expect, it } from 'vitest'
import { ApplianceError } from '../../api/errors.js'
import { ReconcileLoop } from './loop.js'

describe('ReconcileLoop', () => {
  it('coalesces triggers that arrive during a pass into one more pass', async () => {
    const seen: string[][] = []
    let release: (() => void) | undefined
    const loop = new ReconcileLoop({
      name: 't',
      pass: async (reasons) => {
        seen.push(reasons)
        if (seen.length === 1) await new Promise<void>((r) => (release = r))
      },
    })
    loop.trigger('a')
    await new Promise((r) => setTimeout(r, 5))
    loop.trigger('b')
    loop.trigger('c')
    loop.trigger('b')
    release?.()
    await loop.idle()
    expect(seen).toEqual([['a'], ['b', 'c']])
  })

  it('retries retryable failures with the same reasons and stops retrying bad input', async () => {
    let calls = 0
    const loop = new ReconcileLoop({
      name: 't',
      backoff: { initialMs: 1, maxMs: 2 },
      pass: async () => {
        calls++
        if (calls < 3) throw new ApplianceError('ovsdb.unavailable', 'down', { retryable: true })
      },
    })
    loop.trigger('x')
    await loop.idle()
    expect(calls).toBe(3)
    expect(loop.error).toBeUndefined()

    let bad = 0
    const loop2 = new ReconcileLoop({
      name: 't2',
      pass: async () => {
        bad++
        throw new ApplianceError('api.validation', 'bad')
      },
    })
    loop2.trigger('y')
    await loop2.idle()
    expect(bad).toBe(1)
    expect((loop2.error as ApplianceError).code).toBe('api.validation')
  })
})
