import { describe, expect, it } from 'vitest'
import { fitServices, podRequests } from './resource-fit.js'

describe('podRequests', () => {
  it('adds up requests per resource, a missing request falling back to the limit', () => {
    const r = podRequests([{ resources: { requests: { cpu: '500m', memory: '64Mi' } } }, { resources: { limits: { cpu: 1, 'nvidia.com/bf_sf': 2 } } }, {}])
    expect(r).toEqual({ cpu: 1500, memory: 64 * 2 ** 20, 'nvidia.com/bf_sf': 2 })
  })
})

describe('fitServices (DPF ResourceFitting per DPU)', () => {
  // DPF's documented example: 16 CPU / 16Gi / 20 SF minus 4 / 4Gi / 4 leaves 12 / 12Gi / 16.
  const dpu = { cpu: 16, memory: '16Gi', 'nvidia.com/bf_sf': 20 }
  const reserved = { cpu: 4, memory: '4Gi', 'nvidia.com/bf_sf': 4 }

  it('admits oldest first and rejects what no longer fits, naming the resource and the figures', () => {
    const r = fitServices(dpu, reserved, [
      { key: 'default/a', requests: { cpu: 8000, memory: 6 * 2 ** 30 } },
      { key: 'default/b', requests: { cpu: 5000 } },
      { key: 'default/c', requests: { cpu: 4000, 'nvidia.com/bf_sf': 16 } },
    ])
    expect(r.admitted).toEqual(['default/a', 'default/c'])
    expect(r.rejected.get('default/b')).toBe("cpu: requests 5000m, 4000m left of the flavor's dpuResources minus systemReservedResources")
    expect(r.remaining).toEqual({ cpu: 0, memory: 6 * 2 ** 30, 'nvidia.com/bf_sf': 0 })
  })

  it('limits nothing without a flavor, and nothing the flavor does not list', () => {
    expect(fitServices(undefined, undefined, [{ key: 'x/a', requests: { cpu: 10 ** 9 } }]).admitted).toEqual(['x/a'])
    expect(fitServices({ cpu: 1 }, undefined, [{ key: 'x/a', requests: { memory: 10 ** 12 } }]).admitted).toEqual(['x/a'])
  })
})
