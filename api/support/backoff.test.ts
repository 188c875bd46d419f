import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

describe('backoffDelay', () => {
  it('grows the ceiling exponentially up to maxMs', () => {
    const o = { initialMs: 100, maxMs: 1000 }
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, o, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999, 999])
  })

  it('full jitter draws each delay anew from [0, ceiling)', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(5, { initialMs: 100, maxMs: 10_000 }))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(3200)
    expect(new Set(delays).size).toBeGreaterThan(100)
    expect(backoffDelay(5, { initialMs: 100, maxMs: 10_000 }, () => 0)).toBe(0)
  })

  it('equal jitter never goes below half the ceiling', () => {
    const o = { initialMs: 50, maxMs: 250, jitter: 'equal' } as const
    expect([0, 1, 2, 3, 9].map((a) => backoffDelay(a, o, () => 0))).toEqual([25, 50, 100, 125, 125])
    expect([0, 1, 2, 3, 9].map((a) => backoffDelay(a, o, () => 0.999999))).toEqual([49, 99, 199, 249, 249])
  })
})
