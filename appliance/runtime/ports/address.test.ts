import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, createNetns } from '../../../bin/demo/netns.js'
import { ensureIpv4, readIpv4Addresses, removeIpv4 } from './address.js'
import { runCommand } from './command.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

/** A namespace with an up veth pair `net1` <-> `peer1` inside it (deleted with the namespace). */
async function namespaceWithLink(): Promise<string> {
  const ns = await createNetns(cleanup, 'ta')
  await runCommand(['ip', '-n', ns, 'link', 'add', 'net1', 'type', 'veth', 'peer', 'name', 'peer1'])
  await runCommand(['ip', '-n', ns, 'link', 'set', 'net1', 'up'])
  await runCommand(['ip', '-n', ns, 'link', 'set', 'peer1', 'up'])
  return ns
}

const routes = async (ns: string) =>
  (await runCommand(['ip', '-n', ns, '-4', 'route', 'show', 'dev', 'net1'])).stdout
    .trim()
    .split('\n')
    .filter((l) => l.includes('via'))
    .map((l) => l.trim())

describe('ensureIpv4 in a real namespace', () => {
  it('sets the address and routes once, then changes nothing', async () => {
    const netns = await namespaceWithLink()
    const config = { address: '10.66.0.1/29', gateway: '10.66.0.3', routes: ['10.70.0.0/16', '10.71.0.9/32'], defaultRoute: true }
    expect(await ensureIpv4('net1', config, { netns })).toEqual(['add 10.66.0.1/29', 'route 10.70.0.0/16 via 10.66.0.3', 'route 10.71.0.9 via 10.66.0.3', 'route default via 10.66.0.3'])
    expect(await readIpv4Addresses('net1', { netns })).toEqual(['10.66.0.1/29'])
    expect((await routes(netns)).sort()).toEqual(['10.70.0.0/16 via 10.66.0.3', '10.71.0.9 via 10.66.0.3', 'default via 10.66.0.3'])
    expect(await ensureIpv4('net1', config, { netns })).toEqual([])
  })

  it('removes addresses and gateway routes nobody asked for, and a released address', async () => {
    const netns = await namespaceWithLink()
    await runCommand(['ip', '-n', netns, 'addr', 'add', '192.0.2.5/24', 'dev', 'net1'])
    await runCommand(['ip', '-n', netns, 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'net1'])
    const actions = await ensureIpv4('net1', { address: '10.66.0.2/29', routes: [], defaultRoute: false }, { netns })
    expect(actions).toEqual(['del 192.0.2.5/24', 'add 10.66.0.2/29'])
    expect(await readIpv4Addresses('net1', { netns })).toEqual(['10.66.0.2/29'])
    expect(await routes(netns)).toEqual([])
    expect(await removeIpv4('net1', '10.66.0.2', { netns })).toBe(true)
    expect(await removeIpv4('net1', '10.66.0.2', { netns })).toBe(false)
    expect(await readIpv4Addresses('net1', { netns })).toEqual([])
  })
})
