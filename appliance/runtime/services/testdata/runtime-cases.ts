/**
 * The one case suite every ServiceRuntime backend passes (as hono's router `common.case.test.ts`): each
 * backend's test file calls `describeRuntimeCases` with a harness. Everything runs for real: named network
 * namespaces, veths, processes or podman containers. Commands are POSIX sh with busybox-compatible applets, so
 * the same argv runs on the host (`process`) and in the busybox test image (`podman`).
 *
 * Names carry this test process's pid (`uniqueName`), and everything created is registered for cleanup before
 * it is created: pods are removed through the backend, then their namespaces and veths by name.
 */
import { rm, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Cleanup, uniqueName } from '../../../../bin/demo/netns.js'
import { runCommand } from '../../ports/command.js'
import { listNetns } from '../../ports/link.js'
import type { RuntimeContainerState, RuntimePodSpec, RuntimePodState, ServiceRuntime } from '../runtime.js'

export interface RuntimeHarness {
  /** A new backend instance over the same state and owner (a restarted appliance). */
  create(): ServiceRuntime
  /** An image present locally that has /bin/sh, sleep, echo, ip, touch and /pause. */
  image: string
}

const WAIT_MS = 30_000

/** Polls `read` until `ok` holds; fails with the last value seen. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms
  let last: T = await read()
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await sleep(100)
    last = await read()
  }
  return last
}

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  let out = ''
  for await (const chunk of it) out += chunk.toString('utf8')
  return out
}

/** Registers the shared cases for one backend; `setup` runs in beforeAll-time (lazily, once). */
export function describeRuntimeCases(backend: string, setup: () => Promise<RuntimeHarness>): void {
  describe(`ServiceRuntime cases: ${backend}`, () => {
    const cleanup = new Cleanup()
    const runtimes: ServiceRuntime[] = []
    let harness: RuntimeHarness | undefined
    const ns = `rt-${process.pid.toString(36)}`
    let n = 0

    async function rt(): Promise<ServiceRuntime> {
      harness ??= await setup()
      const r = harness.create()
      runtimes.push(r)
      return r
    }

    /** A pod spec whose namespace and pod are registered for cleanup first. */
    function pod(containers: Array<{ name: string; script: string; env?: Record<string, string> }>): RuntimePodSpec {
      const netnsName = uniqueName('rs')
      const key = `${ns}/p${(n++).toString(36)}`
      cleanup.netns(netnsName)
      cleanup.defer(`pod ${key}`, async () => {
        const r = harness?.create()
        if (r === undefined) return
        try {
          await r.removePod(key, 0)
        } finally {
          await r.close()
        }
      })
      return {
        key,
        specHash: 'h1',
        netnsName,
        labels: { 'test.dpu.appliance/suite': 'runtime-cases' },
        containers: containers.map((c) => ({
          name: c.name,
          image: harness?.image ?? '',
          command: ['sh', '-c', c.script],
          env: c.env ?? {},
          mounts: [],
          privileged: false,
          capAdd: [],
          capDrop: [],
          limits: {},
        })),
      }
    }

    /** A flag file the container polls for; `exec touch` raises it from inside (same path on both backends). */
    function flag(): string {
      const path = `/tmp/${uniqueName('rf')}`
      cleanup.defer(`flag ${path}`, () => rm(path, { force: true }))
      return path
    }

    async function podState(r: ServiceRuntime, key: string): Promise<RuntimePodState | undefined> {
      return (await r.list()).find((p) => p.key === key)
    }

    async function container(r: ServiceRuntime, key: string, name: string): Promise<RuntimeContainerState | undefined> {
      return (await podState(r, key))?.containers.find((c) => c.name === name)
    }

    async function veth(): Promise<{ outer: string; inner: string }> {
      const outer = uniqueName('rv')
      const inner = uniqueName('ri')
      cleanup.link(outer)
      await runCommand(['ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner])
      return { outer, inner }
    }

    const SLEEPER = 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'

    afterEach(async () => {
      // Close first: a closed backend records nothing more, so it cannot race the removal below.
      await Promise.all(runtimes.splice(0).map((r) => r.close()))
      await cleanup.run()
    })
    afterAll(async () => {
      await Promise.all(runtimes.splice(0).map((r) => r.close()))
    })

    it('makes the sandbox namespace reachable by name; a veth moved into it is visible to the container', async () => {
      const r = await rt()
      const spec = pod([{ name: 'main', script: SLEEPER }])
      await r.ensureSandbox(spec)
      await r.ensureSandbox(spec) // idempotent
      expect(await listNetns()).toContain(spec.netnsName)
      expect((await podState(r, spec.key))?.sandboxReady).toBe(true)

      const { inner } = await veth()
      await runCommand(['ip', 'link', 'set', 'dev', inner, 'netns', spec.netnsName])
      await r.startContainer(spec, 'main')
      await until('running', () => container(r, spec.key, 'main'), (c) => c?.state === 'running')
      const got = await r.exec(spec.key, 'main', ['ip', 'link', 'show', 'dev', inner], 20_000)
      expect(got.exitCode).toBe(0)
      expect(got.stdout).toContain(inner)
    })

    it('replaces a stale /run/netns name (a host restart left the file without its mount)', async () => {
      const r = await rt()
      const spec = pod([{ name: 'main', script: SLEEPER }])
      await r.ensureSandbox(spec)
      // What a host restart can leave behind: the name is there, the namespace mount is not.
      await runCommand(['umount', `/run/netns/${spec.netnsName}`])
      await writeFile(`/run/netns/${spec.netnsName}`, '')
      expect((await podState(r, spec.key))?.sandboxReady).toBe(false)
      await r.ensureSandbox(spec)
      expect((await podState(r, spec.key))?.sandboxReady).toBe(true)
      const { inner } = await veth()
      await runCommand(['ip', 'link', 'set', 'dev', inner, 'netns', spec.netnsName])
      await r.startContainer(spec, 'main')
      await until('running', () => container(r, spec.key, 'main'), (c) => c?.state === 'running')
      expect((await r.exec(spec.key, 'main', ['ip', 'link', 'show', 'dev', inner], 20_000)).exitCode).toBe(0)
    })

    it('reports the exit code, and startContainer runs an exited container again', async () => {
      const r = await rt()
      const spec = pod([{ name: 'once', script: 'echo ran; exit 3' }])
      await r.ensureSandbox(spec)
      await r.startContainer(spec, 'once')
      const first = await until('exit', () => container(r, spec.key, 'once'), (c) => c?.state === 'exited')
      expect(first?.exitCode).toBe(3)
      await r.startContainer(spec, 'once')
      await until('second run logged', () => collect(r.logs(spec.key, 'once', {})), (t) => t === 'ran\nran\n')
      const second = await until('exit again', () => container(r, spec.key, 'once'), (c) => c?.state === 'exited')
      expect(second?.exitCode).toBe(3)
    })

    it('stops with SIGTERM within the grace period, else SIGKILL; stopping a stopped container is no error', async () => {
      const r = await rt()
      const spec = pod([
        { name: 'polite', script: SLEEPER },
        { name: 'stubborn', script: 'trap "" TERM; while :; do sleep 1; done' },
      ])
      await r.ensureSandbox(spec)
      await r.startContainer(spec, 'polite')
      await r.startContainer(spec, 'stubborn')
      await until('both running', () => podState(r, spec.key), (p) => p?.containers.every((c) => c.state === 'running') === true)
      await r.stopContainer(spec.key, 'polite', 20_000)
      await r.stopContainer(spec.key, 'stubborn', 1000)
      const polite = await until('polite exited', () => container(r, spec.key, 'polite'), (c) => c?.state === 'exited')
      const stubborn = await until('stubborn exited', () => container(r, spec.key, 'stubborn'), (c) => c?.state === 'exited')
      expect(polite?.exitCode).toBe(0)
      expect(stubborn?.exitCode).toBe(137)
      await r.stopContainer(spec.key, 'polite', 1000)
      await r.stopContainer(spec.key, 'nope', 1000)
    })

    it('serves logs with tail, since and follow', async () => {
      const r = await rt()
      const go = flag()
      const spec = pod([{ name: 'talk', script: `echo one; echo two; echo three >&2; while [ ! -e ${go} ]; do sleep 0.2; done; echo four; ${SLEEPER}` }])
      await r.ensureSandbox(spec)
      await r.startContainer(spec, 'talk')
      await until('three lines', () => collect(r.logs(spec.key, 'talk', {})), (t) => t === 'one\ntwo\nthree\n')
      expect(await collect(r.logs(spec.key, 'talk', { tail: 2 }))).toBe('two\nthree\n')

      // Timestamps have (at least) second resolution in some backends: keep a clear gap around the mark.
      await sleep(1100)
      const mark = new Date()
      await sleep(1100)
      const abort = new AbortController()
      let followed = ''
      const following = (async () => {
        for await (const chunk of r.logs(spec.key, 'talk', { follow: true, tail: 1, signal: abort.signal })) followed += chunk.toString('utf8')
      })()
      await until('follow shows the tail', () => Promise.resolve(followed), (t) => t === 'three\n')
      expect((await r.exec(spec.key, 'talk', ['touch', go], 20_000)).exitCode).toBe(0)
      await until('follow shows new output', () => Promise.resolve(followed), (t) => t === 'three\nfour\n')
      abort.abort()
      await following
      expect(await collect(r.logs(spec.key, 'talk', { since: mark }))).toBe('four\n')
    })

    it('execs a command in the container: exit code, stdout, stderr, env; a hung command times out', async () => {
      const r = await rt()
      const spec = pod([{ name: 'main', script: SLEEPER, env: { GREETING: 'hello' } }])
      await r.ensureSandbox(spec)
      await r.startContainer(spec, 'main')
      await until('running', () => container(r, spec.key, 'main'), (c) => c?.state === 'running')
      const got = await r.exec(spec.key, 'main', ['sh', '-c', 'echo "$GREETING out"; echo err >&2; exit 4'], 20_000)
      expect(got).toEqual({ exitCode: 4, stdout: 'hello out\n', stderr: 'err\n' })
      await expect(r.exec(spec.key, 'main', ['sleep', '30'], 1000)).rejects.toMatchObject({ code: 'runtime.exec-timeout' })
      await r.stopContainer(spec.key, 'main', 20_000)
      await expect(r.exec(spec.key, 'main', ['true'], 5000)).rejects.toMatchObject({ code: 'runtime.not-running' })
    })

    it('a new backend instance adopts running containers (same pid, not restarted) and watches them', async () => {
      const first = await rt()
      const spec = pod([{ name: 'main', script: SLEEPER }])
      await first.ensureSandbox(spec)
      await first.startContainer(spec, 'main')
      const before = await until('running', () => container(first, spec.key, 'main'), (c) => c?.state === 'running' && c.pid !== undefined)
      await first.close()

      const second = await rt()
      const seen: string[] = []
      const stop = second.watch((key) => seen.push(key))
      const adopted = await podState(second, spec.key)
      expect(adopted).toMatchObject({ key: spec.key, specHash: 'h1', netnsName: spec.netnsName, sandboxReady: true })
      expect(adopted?.containers.find((c) => c.name === 'main')).toMatchObject({ state: 'running', pid: before?.pid, startedAt: before?.startedAt })

      process.kill(before?.pid as number, 'SIGKILL')
      await until('watch fired', () => Promise.resolve(seen), (s) => s.includes(spec.key))
      expect((await until('exited', () => container(second, spec.key, 'main'), (c) => c?.state === 'exited'))?.state).toBe('exited')
      stop()
    })

    it('fires watch when a container exits', async () => {
      const r = await rt()
      const go = flag()
      const spec = pod([{ name: 'main', script: `while [ ! -e ${go} ]; do sleep 0.2; done; exit 5` }])
      await r.ensureSandbox(spec)
      await r.startContainer(spec, 'main')
      await until('running', () => container(r, spec.key, 'main'), (c) => c?.state === 'running')
      const seen: string[] = []
      const stop = r.watch((key) => seen.push(key))
      await r.exec(spec.key, 'main', ['touch', go], 20_000)
      await until('watch fired', () => Promise.resolve(seen), (s) => s.includes(spec.key))
      expect((await until('exited', () => container(r, spec.key, 'main'), (c) => c?.state === 'exited'))?.exitCode).toBe(5)
      stop()
    })

    it('removePod stops the containers and removes the sandbox and its namespace name; no error when absent', async () => {
      const r = await rt()
      const spec = pod([{ name: 'main', script: SLEEPER }])
      await r.ensureSandbox(spec)
      await r.startContainer(spec, 'main')
      const running = await until('running', () => container(r, spec.key, 'main'), (c) => c?.pid !== undefined)
      await r.removePod(spec.key, 5000)
      expect(await podState(r, spec.key)).toBeUndefined()
      expect(await listNetns()).not.toContain(spec.netnsName)
      expect(() => process.kill(running?.pid as number, 0)).toThrow()
      await r.removePod(spec.key, 5000)
    })

    it('reports whether an image is present locally', async () => {
      const r = await rt()
      expect(await r.hasImage(harness?.image ?? '')).toBe(true)
      // `process` runs host commands and has no images: every image is "present".
      expect(await r.hasImage(`localhost/${uniqueName('ri')}-missing:1`)).toBe(r.name === 'process')
    })

    it('keeps two pods isolated: own namespaces, stopping one leaves the other running', async () => {
      const r = await rt()
      const a = pod([{ name: 'main', script: SLEEPER }])
      const b = pod([{ name: 'main', script: SLEEPER }])
      await r.ensureSandbox(a)
      await r.ensureSandbox(b)
      const { inner } = await veth()
      await runCommand(['ip', 'link', 'set', 'dev', inner, 'netns', a.netnsName])
      await r.startContainer(a, 'main')
      await r.startContainer(b, 'main')
      await until('both running', () => r.list(), (l) => [a.key, b.key].every((k) => l.find((p) => p.key === k)?.containers[0]?.state === 'running'))
      expect((await r.exec(a.key, 'main', ['ip', 'link', 'show', 'dev', inner], 20_000)).exitCode).toBe(0)
      expect((await r.exec(b.key, 'main', ['ip', 'link', 'show', 'dev', inner], 20_000)).exitCode).not.toBe(0)
      await r.removePod(a.key, 5000)
      expect((await container(r, b.key, 'main'))?.state).toBe('running')
    })
  })
}
