import { describe, expect, it } from 'vitest'
import { ValidationError } from './errors.js'
import { parseQuantity, type QuantityUnit } from './quantity.js'

describe('parseQuantity', () => {
  it.each<[string | number, QuantityUnit, number]>([
    ['500m', 'cpuMillis', 500],
    ['2', 'cpuMillis', 2000],
    [2, 'cpuMillis', 2000],
    ['0.5', 'cpuMillis', 500],
    ['0.1', 'cpuMillis', 100],
    ['.25', 'cpuMillis', 250],
    ['1.', 'cpuMillis', 1000],
    ['0.0001', 'cpuMillis', 1], // rounded up, as Kubernetes rounds a request up
    ['100u', 'cpuMillis', 1],
    ['1500000n', 'cpuMillis', 2],
    ['+1', 'cpuMillis', 1000],
    ['0', 'cpuMillis', 0],
    ['-0', 'cpuMillis', 0],
    ['64Mi', 'bytes', 64 * 1024 * 1024],
    ['1Ki', 'bytes', 1024],
    ['1.5Gi', 'bytes', 1.5 * 1024 ** 3],
    ['1G', 'bytes', 1e9],
    ['1k', 'bytes', 1000],
    ['128974848', 'bytes', 128974848],
    [1073741824, 'bytes', 1073741824],
    ['129e6', 'bytes', 129e6],
    ['1E3', 'bytes', 1000],
    ['1m', 'bytes', 1], // a thousandth of a byte rounds up to one
    ['4', 'count', 4],
    [4, 'count', 4],
    ['2k', 'count', 2000],
  ])('%j as %s -> %d', (q, unit, want) => {
    expect(parseQuantity(q, unit, 'f')).toBe(want)
  })

  it.each<[string | number, QuantityUnit, string]>([
    ['', 'cpuMillis', 'must be a Kubernetes quantity'],
    ['1 Gi', 'bytes', 'must be a Kubernetes quantity'],
    ['1GiB', 'bytes', 'must be a Kubernetes quantity'],
    ['1gi', 'bytes', 'must be a Kubernetes quantity'],
    ['two', 'count', 'must be a Kubernetes quantity'],
    ['1e', 'bytes', 'must be a Kubernetes quantity'],
    ['1e3m', 'cpuMillis', 'must be a Kubernetes quantity'], // one suffix only
    [Number.NaN, 'bytes', 'must be a Kubernetes quantity'],
    ['-1', 'cpuMillis', 'must not be negative'],
    ['-64Mi', 'bytes', 'must not be negative'],
    ['1.5', 'count', 'must be a whole number'],
    ['500m', 'count', 'must be a whole number'],
    ['1e300', 'bytes', 'is out of range'],
    ['100Ei', 'bytes', 'is too large'],
    ['1e-300', 'bytes', 'is out of range'],
    ['1'.repeat(65), 'bytes', 'at most 64 characters'],
  ])('%j as %s is refused: %s', (q, unit, why) => {
    let err: unknown
    try {
      parseQuantity(q, unit, 'spec.containers[0].resources.limits.memory')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ValidationError)
    const v = err as ValidationError
    expect(v.code).toBe('api.validation')
    expect(v.issues).toEqual([{ path: 'spec.containers[0].resources.limits.memory', message: expect.stringContaining(why) }])
    expect(v.message).toMatch(/^spec\.containers\[0\]\.resources\.limits\.memory: /)
  })
})
