import { spawn } from 'node:child_process'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runCommand } from '../../appliance/runtime/ports/command.js'
import { Cleanup, createNetns, createVethPair, exec, iperf3Client, ownerPid, ping, startCapture, startIperf3Server, startPing, sweepStale, uniqueName } from './netns.js'

async function netnsNames(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', 'netns', 'list'])
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0] as string)
    .filter(Boolean)
}

/** Every interface name in our namespace and in every named one. */
async function allLinkNames(): Promise<string[]> {
  const names: string[] = []
  for (const ns of [undefined, ...(await netnsNames())]) {
    const argv = ns === undefined ? ['ip', '-j', 'link', 'show'] : ['ip', '-n', ns, '-j', 'link', 'show']
    try {
      const { stdout } = await runCommand(argv)
      names.push(...(JSON.parse(stdout) as Array<{ ifname: string }>).map((l) => l.ifname))
    } catch {
      // a parallel test deleted that namespace between the two commands
    }
  }
  return names
}

function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('true')
    child.once('exit', () => resolve(child.pid as number))
  })
}

const cleanup = new Cleanup()
afterEach(() => cleanup.run())
beforeAll(async () => {
  await sweepStale()
})

/** Two namespaces joined by a veth pair: 10.201.0.1 in `a`, 10.201.0.2 in `b`. */
async function twoHosts(): Promise<{ a: string; b: string; aDev: string; bDev: string }> {
  const a = await createNetns(cleanup)
  const b = await createNetns(cleanup)
  const pair = await createVethPair(cleanup, { netns: a, nameAddr: '10.201.0.1/24', peerNetns: b, addr: '10.201.0.2/24' })
  return { a, b, aDev: pair.name, bDev: pair.peer }
}

describe('names', () => {
  it('are unique, at most 15 bytes, and carry the creating pid', () => {
    const names = Array.from({ length: 50 }, () => uniqueName())
    expect(new Set(names).size).toBe(50)
    for (const n of names) {
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(15)
      expect(ownerPid(n)).toBe(process.pid)
    }
    expect(ownerPid('tv-zz-1')).toBeUndefined()
    expect(ownerPid('eth0')).toBeUndefined()
  })
})

describe('namespaces and veth pairs', () => {
  it('pings across a veth pair and cleanup removes every namespace and link it made', async () => {
    const { a, b, aDev, bDev } = await twoHosts()
    expect(await netnsNames()).toEqual(expect.arrayContaining([a, b]))

    const result = await ping(a, '10.201.0.2', { count: 3, interval: 0.05 })
    expect(result).toEqual({ sent: 3, received: 3, lossPct: 0 })
    expect((await exec(b, 'ip', ['-br', 'addr', 'show', 'dev', bDev])).stdout).toContain('10.201.0.2/24')

    await cleanup.run()
    const left = await netnsNames()
    expect(left).not.toContain(a)
    expect(left).not.toContain(b)
    const links = await allLinkNames()
    expect(links).not.toContain(aDev)
    expect(links).not.toContain(bDev)
  })

  it('removes a veth whose end sits in our namespace, and sets MTU and MAC on create', async () => {
    const ns = await createNetns(cleanup)
    const pair = await createVethPair(cleanup, { peerNetns: ns, mtu: 1400, mac: '02:aa:00:00:00:01', disableOffloads: true })
    const host = JSON.parse((await runCommand(['ip', '-j', 'link', 'show', 'dev', pair.name])).stdout)[0]
    const peer = JSON.parse((await runCommand(['ip', '-n', ns, '-j', 'link', 'show', 'dev', pair.peer])).stdout)[0]
    expect(host.mtu).toBe(1400)
    expect(peer.mtu).toBe(1400)
    expect(peer.address).toBe('02:aa:00:00:00:01')
    const features = (await exec(ns, 'ethtool', ['-k', pair.peer])).stdout
    expect(features).toMatch(/tcp-segmentation-offload: off/)
    expect(features).toMatch(/tx-checksumming: off/)

    await cleanup.run()
    expect(await allLinkNames()).not.toContain(pair.name)
    expect(await netnsNames()).not.toContain(ns)
  })

  it('reports total loss to an address nobody answers', async () => {
    const { a } = await twoHosts()
    const result = await ping(a, '10.201.0.99', { count: 2, interval: 0.1, timeoutS: 1 })
    expect(result.sent).toBeGreaterThanOrEqual(1)
    expect(result.received).toBe(0)
    expect(result.lossPct).toBe(100)
  })

  it('kills processes still running in a namespace so the namespace really goes', async () => {
    const ns = await createNetns(cleanup)
    const child = spawn('ip', ['netns', 'exec', ns, 'sleep', '300'], { stdio: 'ignore' })
    try {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      // `spawn` fires before `ip netns exec` has entered the namespace; wait until the namespace holds it.
      const deadline = Date.now() + 5000
      while (!(await runCommand(['ip', 'netns', 'pids', ns])).stdout.includes(String(child.pid)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10))
      }
      await cleanup.run()
      await exited
      expect(child.signalCode).toBe('SIGKILL')
      expect(await netnsNames()).not.toContain(ns)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('runs every cleanup step even when one fails, then reports the failure', async () => {
    const ns = await createNetns(cleanup)
    cleanup.defer('broken step', () => Promise.reject(new Error('boom')))
    await expect(cleanup.run()).rejects.toThrow(/1 of 2 steps failed/)
    expect(await netnsNames()).not.toContain(ns)
  })
})

describe('traffic tools', () => {
  it('a long-running ping loses nothing on a healthy link', async () => {
    const { a } = await twoHosts()
    const running = await startPing(cleanup, a, '10.201.0.2', { interval: 0.01 })
    await new Promise((r) => setTimeout(r, 600))
    const result = await running.stop()
    expect(result.sent).toBeGreaterThan(10)
    expect(result.lost).toBe(0)
    expect(result.received).toBeGreaterThanOrEqual(result.sent - 1)
  })

  it('a long-running ping counts the probes lost while the peer does not answer', async () => {
    const { a, bDev, b } = await twoHosts()
    const running = await startPing(cleanup, a, '10.201.0.2', { interval: 0.01 })
    await new Promise((r) => setTimeout(r, 200))
    // Without its address `b` drops the requests it still receives (a's neighbour entry stays valid).
    await exec(b, 'ip', ['addr', 'del', '10.201.0.2/24', 'dev', bDev])
    await new Promise((r) => setTimeout(r, 300))
    await exec(b, 'ip', ['addr', 'add', '10.201.0.2/24', 'dev', bDev])
    await new Promise((r) => setTimeout(r, 200))
    const result = await running.stop()
    expect(result.lost).toBeGreaterThan(5)
    expect(result.received).toBeGreaterThan(5)
  })

  it('measures TCP throughput with iperf3', async () => {
    const { a, b } = await twoHosts()
    const server = await startIperf3Server(cleanup, b, { port: 5301, timeoutS: 20 })
    const result = await iperf3Client(a, '10.201.0.2', { port: server.port, durationS: 1 })
    expect(result.bitsPerSecond).toBeGreaterThan(1e6)
    expect(result.bytes).toBeGreaterThan(0)
    expect(result.retransmits).toBeTypeOf('number')
    await server.done
  })

  it('counts captured packets matching a filter', async () => {
    const { a, b, bDev } = await twoHosts()
    const cap = await startCapture(cleanup, b, bDev, 'icmp[icmptype] == icmp-echo')
    await ping(a, '10.201.0.2', { count: 4, interval: 0.05 })
    const result = await cap.stop()
    expect(result.packets).toBe(4)
    expect(result.lines).toHaveLength(4)
  })
})

describe('sweepStale', () => {
  it('removes leftovers of dead processes and keeps those of live ones', async () => {
    const pid = (await deadPid()).toString(36)
    const staleNs = `tn-${pid}-0`
    const staleLink = `tv-${pid}-1`
    await runCommand(['ip', 'netns', 'add', staleNs])
    cleanup.netns(staleNs)
    await runCommand(['ip', 'link', 'add', staleLink, 'type', 'veth', 'peer', 'name', `tv-${pid}-2`, 'netns', staleNs])
    cleanup.link(staleLink)
    const live = await createNetns(cleanup)

    const removed = await sweepStale()
    expect(removed).toEqual(expect.arrayContaining([staleNs]))
    expect(await netnsNames()).not.toContain(staleNs)
    expect(await allLinkNames()).not.toContain(staleLink)
    expect(await netnsNames()).toContain(live)
  })
})
