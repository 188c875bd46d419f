import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { demoPreflight, renderExpected } from './fleet.js'

const SAMPLES = fileURLToPath(new URL('../../federation/samples/fleet/manifests/', import.meta.url))

describe('demoPreflight', () => {
  it('names every missing piece with how to get it', () => {
    const missing = demoPreflight({ uid: 1000, ovs: false, tools: { ip: true, ping: false } })
    expect(missing).toHaveLength(3)
    expect(missing[0]).toMatch(/^root: .*sudo make demo/)
    expect(missing[1]).toMatch(/^Open vSwitch .*make setup.*openvswitch-switch/)
    expect(missing[2]).toBe('ping: apt-get install -y iputils-ping')
  })

  it('is empty when the machine has everything', () => {
    expect(demoPreflight({ uid: 0, ovs: true, tools: { ip: true, ping: true } })).toEqual([])
  })
})

describe('renderExpected', () => {
  it('renders the sample fleet per DPU by its labels (what the demo waits for)', () => {
    expect(renderExpected(SAMPLES, { name: 'dpu-a', labels: { zone: 'a' } })).toEqual(['ServiceChain/uplink-to-fw', 'ServiceInterface/fw-in', 'ServiceInterface/p0'])
    expect(renderExpected(SAMPLES, { name: 'dpu-b', labels: { zone: 'b' } })).toEqual(['ServiceInterface/fw-in', 'ServiceInterface/p0'])
  })
})
