import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, ping, uniqueName } from '../../../bin/demo/netns.js'
import { runCommand } from './command.js'
import { InvalidNameError } from './errors.js'
import { listNetns, readLink } from './link.js'
import { ensureServiceVeth, removeServiceVeth, serviceVethName, type ServiceVethSpec } from './veth-provider.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

/** A spec whose namespace and outer end are registered for cleanup before anything is created. */
function spec(overrides: Partial<ServiceVethSpec> = {}): ServiceVethSpec {
  const s: ServiceVethSpec = { netns: uniqueName(), innerName: 'net1', outerName: uniqueName('tv'), mtu: 1500, ...overrides }
  cleanup.netns(s.netns)
  cleanup.link(s.outerName)
  return s
}

async function offloads(dev: string, netns?: string): Promise<string> {
  const argv = netns === undefined ? ['ethtool', '-k', dev] : ['ip', 'netns', 'exec', netns, 'ethtool', '-k', dev]
  return (await runCommand(argv)).stdout
}

describe('ensureServiceVeth', () => {
  it('creates the namespace and a pair, inner end named as the service expects, both up, offloads off', async () => {
    const s = spec({ mtu: 9000, mac: '02:5E:00:00:00:01' })
    const got = await ensureServiceVeth(s)
    expect(got).toMatchObject({ outerName: s.outerName, innerMac: '02:5e:00:00:00:01', actions: ['created'] })

    expect(await listNetns()).toContain(s.netns)
    const outer = await readLink(s.outerName)
    const inner = await readLink('net1', { netns: s.netns })
    expect(outer).toMatchObject({ kind: 'veth', mtu: 9000, adminUp: true, peerIfindex: inner?.ifindex })
    expect(inner).toMatchObject({ kind: 'veth', mtu: 9000, adminUp: true, mac: '02:5e:00:00:00:01', peerIfindex: outer?.ifindex })
    expect(got.outerMac).toBe(outer?.mac)
    expect(await offloads(s.outerName)).toMatch(/tcp-segmentation-offload: off/)
    expect(await offloads('net1', s.netns)).toMatch(/tx-checksumming: off/)
  })

  it('announces the namespace and the pair it creates, and nothing when both exist', async () => {
    const s = spec()
    const created: unknown[] = []
    await ensureServiceVeth({ ...s, beforeCreate: (c) => created.push(c) })
    expect(created).toEqual([
      { kind: 'netns', name: s.netns },
      { kind: 'veth', name: s.outerName },
    ])
    const again: unknown[] = []
    await ensureServiceVeth({ ...s, beforeCreate: (c) => again.push(c) })
    expect(again).toEqual([])
  })

  it('does not collide with an inner name that exists in our namespace (eth0)', async () => {
    const s = spec({ innerName: 'eth0' })
    await ensureServiceVeth(s)
    expect((await readLink('eth0', { netns: s.netns }))?.kind).toBe('veth')
  })

  it('is idempotent: a correct pair is kept as it is', async () => {
    const s = spec({ mac: '02:5e:00:00:00:02' })
    await ensureServiceVeth(s)
    const before = await readLink(s.outerName)
    const again = await ensureServiceVeth(s)
    expect(again.actions).toEqual([])
    expect(again.innerMac).toBe('02:5e:00:00:00:02')
    expect((await readLink(s.outerName))?.ifindex).toBe(before?.ifindex)
  })

  it('fixes a wrong MTU, MAC and admin state in place', async () => {
    const s = spec({ mtu: 1500, mac: '02:5e:00:00:00:03' })
    await ensureServiceVeth(s)
    const before = await readLink(s.outerName)
    await runCommand(['ip', 'link', 'set', 'dev', s.outerName, 'mtu', '1400', 'down'])
    await runCommand(['ip', '-n', s.netns, 'link', 'set', 'dev', 'net1', 'address', '02:5e:00:00:00:99'])
    const fixed = await ensureServiceVeth(s)
    expect(fixed.actions).toEqual(['mtu', 'mac', 'up'])
    expect(await readLink(s.outerName)).toMatchObject({ ifindex: before?.ifindex, mtu: 1500, adminUp: true })
    expect(await readLink('net1', { netns: s.netns })).toMatchObject({ mac: '02:5e:00:00:00:03', mtu: 1500 })

    const bigger = await ensureServiceVeth({ ...s, mtu: 9216 })
    expect(bigger.actions).toEqual(['mtu'])
    expect((await readLink('net1', { netns: s.netns }))?.mtu).toBe(9216)
  })

  it('recreates the pair after the inner end was deleted (which takes the outer end too)', async () => {
    const s = spec()
    await ensureServiceVeth(s)
    await runCommand(['ip', '-n', s.netns, 'link', 'del', 'dev', 'net1'])
    expect(await readLink(s.outerName)).toBeUndefined()
    const again = await ensureServiceVeth(s)
    expect(again.actions).toEqual(['created'])
    expect((await readLink('net1', { netns: s.netns }))?.peerIfindex).toBe((await readLink(s.outerName))?.ifindex)
  })

  it('recreates a pair whose inner end is missing under its name (renamed by the service)', async () => {
    const s = spec()
    await ensureServiceVeth(s)
    const oldOuter = await readLink(s.outerName)
    await runCommand(['ip', '-n', s.netns, 'link', 'set', 'dev', 'net1', 'name', 'renamed0'])
    const again = await ensureServiceVeth(s)
    expect(again.actions).toEqual(['recreated'])
    expect(await readLink('renamed0', { netns: s.netns })).toBeUndefined()
    const outer = await readLink(s.outerName)
    expect(outer?.ifindex).not.toBe(oldOuter?.ifindex)
    expect((await readLink('net1', { netns: s.netns }))?.peerIfindex).toBe(outer?.ifindex)
  })

  it('replaces leftovers of another kind under either name', async () => {
    const s = spec()
    await runCommand(['ip', 'netns', 'add', s.netns])
    await runCommand(['ip', 'link', 'add', s.outerName, 'type', 'bridge'])
    await runCommand(['ip', '-n', s.netns, 'link', 'add', 'net1', 'type', 'bridge'])
    const got = await ensureServiceVeth(s)
    expect(got.actions).toEqual(['recreated'])
    expect((await readLink(s.outerName))?.kind).toBe('veth')
    expect((await readLink('net1', { netns: s.netns }))?.kind).toBe('veth')
  })

  it('carries traffic: our namespace reaches the service over the pair', async () => {
    const s = spec()
    await ensureServiceVeth(s)
    await runCommand(['ip', 'addr', 'add', '10.202.0.1/30', 'dev', s.outerName])
    await runCommand(['ip', '-n', s.netns, 'addr', 'add', '10.202.0.2/30', 'dev', 'net1'])
    expect(await ping(s.netns, '10.202.0.1', { count: 2, interval: 0.05 })).toMatchObject({ received: 2, lossPct: 0 })
  })

  it('refuses invalid names, MTU and MAC before touching the host', async () => {
    const base = { netns: uniqueName(), innerName: 'net1', outerName: uniqueName('tv'), mtu: 1500 }
    await expect(ensureServiceVeth({ ...base, outerName: 'a-name-too-long-x' })).rejects.toThrow(InvalidNameError)
    await expect(ensureServiceVeth({ ...base, innerName: 'net 1' })).rejects.toThrow(InvalidNameError)
    await expect(ensureServiceVeth({ ...base, netns: '../x' })).rejects.toThrow(InvalidNameError)
    await expect(ensureServiceVeth({ ...base, mtu: 20 })).rejects.toThrow(/mtu 20/)
    await expect(ensureServiceVeth({ ...base, mac: '02:00' })).rejects.toThrow(/mac/)
    expect(await listNetns()).not.toContain(base.netns)
  })
})

describe('removeServiceVeth', () => {
  it('removes both ends and is idempotent', async () => {
    const s = spec({ outerName: serviceVethName(`test/${process.pid}/${uniqueName()}`) })
    await ensureServiceVeth(s)
    expect(await removeServiceVeth(s.outerName)).toBe(true)
    expect(await readLink(s.outerName)).toBeUndefined()
    expect(await readLink('net1', { netns: s.netns })).toBeUndefined()
    expect(await removeServiceVeth(s.outerName)).toBe(false)
  })
})
