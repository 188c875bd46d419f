import { describe, expect, it } from 'vitest'
import { computeNodeBlock, type NodeBlock } from './ipam-pool.js'

const blockOf = (r: ReturnType<typeof computeNodeBlock>): NodeBlock => {
  if ('problem' in r) throw new Error(r.problem)
  return r.block
}

describe('a pool block for this node', () => {
  it('ipv4Network: the first /prefixSize subnet, gateway at gatewayIndex, never handed out (DPF sample hbn-ovn-ipam.yaml)', () => {
    const b = blockOf(computeNodeBlock('ns/pool', { ipv4Network: { network: '10.0.120.0/22', gatewayIndex: 3, prefixSize: 29 } }, 'dpu-a'))
    expect(b).toMatchObject({ subnet: '10.0.120.0/29', prefixLength: 29, gateway: '10.0.120.3', size: 5 })
    expect([...b.candidates()]).toEqual(['10.0.120.1', '10.0.120.2', '10.0.120.4', '10.0.120.5', '10.0.120.6'])
    expect(b.contains('10.0.120.3')).toBe(false)
    expect(b.contains('10.0.120.8')).toBe(false)
  })

  it('ipv4Network: allocations[node] picks the subnet; exclusions are skipped', () => {
    const b = blockOf(
      computeNodeBlock(
        'ns/pool',
        { ipv4Network: { network: '10.0.120.0/22', gatewayIndex: 1, prefixSize: 29, allocations: { 'dpu-a': '10.0.120.8/29' }, exclusions: [{ startIP: '10.0.120.10', endIP: '10.0.120.12' }] } },
        'dpu-a',
      ),
    )
    expect([...b.candidates()]).toEqual(['10.0.120.13', '10.0.120.14'])
    expect(b.gateway).toBe('10.0.120.9')
  })

  it('ipv4Network /32 (the loopback sample): one address, no gateway', () => {
    const b = blockOf(computeNodeBlock('ns/lo', { ipv4Network: { network: '11.0.0.0/24', prefixSize: 32 } }, 'dpu-a'))
    expect([...b.candidates()]).toEqual(['11.0.0.0'])
    expect(b.gateway).toBeUndefined()
  })

  it('ipv4Subnet: perNodeIPCount addresses from the first usable one, the shared gateway excluded', () => {
    const b = blockOf(computeNodeBlock('ns/pool', { ipv4Subnet: { subnet: '192.168.0.0/16', gateway: '192.168.0.1', perNodeIPCount: 4 } }, 'dpu-a'))
    expect(b).toMatchObject({ subnet: '192.168.0.0/16', prefixLength: 16, gateway: '192.168.0.1', size: 3 })
    expect([...b.candidates()]).toEqual(['192.168.0.2', '192.168.0.3', '192.168.0.4'])
  })

  it('names what is wrong with a pool that cannot give this node a block', () => {
    const bad = (spec: Parameters<typeof computeNodeBlock>[1]) => {
      const r = computeNodeBlock('ns/pool', spec, 'dpu-a')
      return 'problem' in r ? r.problem : undefined
    }
    expect(bad({ ipv4Network: { network: '10.0.0.0/24', prefixSize: 29, gatewayIndex: 8 } })).toMatch(/gatewayIndex 8 is outside a \/29/)
    expect(bad({ ipv4Network: { network: '10.0.0.0/24', prefixSize: 29, allocations: { 'dpu-a': '10.1.0.0/29' } } })).toMatch(/outside network 10.0.0.0\/24/)
    expect(bad({ ipv4Network: { network: '10.0.0.0/24', prefixSize: 29, allocations: { 'dpu-a': '10.0.0.0/28' } } })).toMatch(/is not a \/29/)
    expect(bad({ ipv4Subnet: { subnet: '10.0.0.0/24', gateway: '10.0.1.1', perNodeIPCount: 4 } })).toMatch(/gateway 10.0.1.1 is outside/)
  })
})
