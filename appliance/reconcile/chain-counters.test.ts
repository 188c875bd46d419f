import { describe, expect, it } from 'vitest'
import type { StoredObject } from '../../api/meta.js'
import { chainCookie } from '../sfc/cookie.js'
import { computeChainCounters } from './chain-counters.js'

const chainObj = (name: string, namespace = 'default') =>
  ({ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceChain', metadata: { name, namespace }, spec: {}, status: {} }) as unknown as StoredObject

describe('computeChainCounters', () => {
  it("maps each chain to its cookie's counters and gives chains without flows zeros", () => {
    const byCookie = new Map([
      [chainCookie('default', 'a'), { cookie: chainCookie('default', 'a'), flows: 2, packets: 7n, bytes: 700n }],
      [chainCookie('other', 'a'), { cookie: chainCookie('other', 'a'), flows: 4, packets: 1n, bytes: 60n }],
      [0x99n, { cookie: 0x99n, flows: 1, packets: 5n, bytes: 5n }], // not a chain's: ignored
    ])
    const out = computeChainCounters([chainObj('a'), chainObj('a', 'other'), chainObj('b')], byCookie)
    expect(Object.fromEntries(out)).toEqual({
      'default/a': { flows: 2, packets: 7, bytes: 700 },
      'other/a': { flows: 4, packets: 1, bytes: 60 },
      'default/b': { flows: 0, packets: 0, bytes: 0 },
    })
  })
})
