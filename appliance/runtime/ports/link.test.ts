import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, createNetns, uniqueName } from '../../../bin/demo/netns.js'
import { runCommand } from './command.js'
import { CommandFailedError } from './errors.js'
import { deleteLink, deleteNetns, ensureNetns, listLinks, listNetns, moveToNetns, readLink, readNetnsIds, setMac, setMtu, setUp } from './link.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

/** A Linux bridge: the simplest device this kernel can create (no dummy module here). */
async function plainLink(): Promise<string> {
  const name = uniqueName('tv')
  await runCommand(['ip', 'link', 'add', name, 'type', 'bridge'])
  cleanup.link(name)
  return name
}

describe('readLink', () => {
  it('returns undefined for a missing link or namespace', async () => {
    expect(await readLink('nosuchlink0')).toBeUndefined()
    expect(await readLink('lo', { netns: uniqueName() })).toBeUndefined()
  })

  it('reads name, mac, mtu, state, index and kind', async () => {
    const name = await plainLink()
    const link = await readLink(name)
    expect(link).toMatchObject({ name, mtu: 1500, adminUp: false, kind: 'bridge', operstate: 'DOWN' })
    expect(link?.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/)
    expect(link?.ifindex).toBeGreaterThan(1)
    expect((await listLinks()).map((l) => l.name)).toContain(name)
  })
})

describe('link changes', () => {
  it('sets MTU, MAC and up, moves into a namespace and deletes there', async () => {
    // A veth end, since a bridge may not change namespace.
    const name = uniqueName('tv')
    const peer = uniqueName('tv')
    await runCommand(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer])
    cleanup.link(peer)
    await setMtu(name, 1400)
    await setMac(name, '02:ab:cd:00:00:01')
    await setUp(name)
    expect(await readLink(name)).toMatchObject({ mtu: 1400, mac: '02:ab:cd:00:00:01', adminUp: true })

    const ns = await createNetns(cleanup)
    await moveToNetns(name, ns)
    expect(await readLink(name)).toBeUndefined()
    expect(await readLink(name, { netns: ns })).toMatchObject({ name, mtu: 1400 })

    expect(await deleteLink(name, { netns: ns })).toBe(true)
    expect(await deleteLink(name, { netns: ns })).toBe(false)
    expect(await readLink(name, { netns: ns })).toBeUndefined()
    expect(await readLink(peer)).toBeUndefined()
  })

  it('reports a failing command with argv, exit code and stderr', async () => {
    const name = await plainLink()
    const err = await setMtu(name, 10).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CommandFailedError)
    const failed = err as CommandFailedError
    expect(failed.code).toBe('runtime.command-failed')
    expect(failed.retryable).toBe(true)
    expect(failed.context).toMatchObject({ command: `ip link set dev ${name} mtu 10`, exitCode: 2 })
    expect(String(failed.context.stderr)).toMatch(/mtu/i)
    expect(failed.message).toContain(`ip link set dev ${name} mtu 10: exited 2`)
  })
})

describe('namespaces', () => {
  it('ensureNetns creates once, brings lo up, and deleteNetns is idempotent', async () => {
    const ns = uniqueName()
    cleanup.netns(ns)
    expect(await ensureNetns(ns)).toBe(true)
    expect(await ensureNetns(ns)).toBe(false)
    expect(await listNetns()).toContain(ns)
    expect(await readLink('lo', { netns: ns })).toMatchObject({ adminUp: true })
    expect(await deleteNetns(ns)).toBe(true)
    expect(await deleteNetns(ns)).toBe(false)
    expect(await listNetns()).not.toContain(ns)
  })

  it('knows the id of a namespace that holds a veth peer', async () => {
    const ns = await createNetns(cleanup)
    const name = uniqueName('tv')
    await runCommand(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    cleanup.link(name)
    const id = (await readNetnsIds()).get(ns)
    expect(id).toBeTypeOf('number')
    expect((await readLink(name))?.peerNetnsId).toBe(id)
  })
})
