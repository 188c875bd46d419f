import { afterAll, describe, expect, it } from 'vitest'
import { uniqueName } from '../../../bin/demo/netns.js'
import { runCommand } from '../ports/command.js'
import { ensureBusyboxImage } from '../../../test/support/busybox-image.js'
import { PodmanRuntime } from './podman-runtime.js'
import { describeRuntimeCases } from './testdata/runtime-cases.js'

// One podman service per test file, on its own socket, started by the first backend instance (the keeper) and
// stopped when it closes; the instances the cases create connect to it. The owner marker is unique to this run,
// so the sweep below removes only what this run created.
const tag = process.pid.toString(36)
const owner = `test-${tag}`
const socketPath = `/tmp/podman-rt-${tag}.sock`
let keeper: PodmanRuntime | undefined

afterAll(async () => {
  if (keeper === undefined) return
  for (const pod of await keeper.list()) await keeper.removePod(pod.key, 0)
  await keeper.close()
})

let setup: Promise<{ image: string; create: () => PodmanRuntime; keeper: PodmanRuntime }> | undefined
function podmanHarness(): Promise<{ image: string; create: () => PodmanRuntime; keeper: PodmanRuntime }> {
  setup ??= (async () => {
    // Built from Debian's busybox-static and cached by content hash: shared by runs, not removed after one.
    const image = await ensureBusyboxImage('localhost/dpu-test-busybox:1')
    const create = (): PodmanRuntime => new PodmanRuntime({ socketPath, owner, infraImage: image, podNamePrefix: `t${tag}-` })
    keeper = create()
    await keeper.list()
    return { image, create, keeper }
  })()
  return setup
}

describeRuntimeCases('podman', podmanHarness)

describe('PodmanRuntime specifics', () => {
  it('re-attaches the netns name after the infra container restarts, and applies memory and cpu limits', async () => {
    const { keeper: r } = await podmanHarness()
    const netnsName = uniqueName('rs')
    const key = `rt-${tag}/infra`
    const spec = {
      key,
      specHash: 'h1',
      netnsName,
      labels: {},
      containers: [
        {
          name: 'main',
          image: 'localhost/dpu-test-busybox:1',
          command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'],
          env: {},
          mounts: [],
          privileged: false,
          capAdd: [],
          capDrop: [],
          limits: { memoryBytes: 64 * 1024 * 1024, cpuMillis: 500 },
        },
      ],
    }
    try {
      await r.startContainer(spec, 'main')
      const before = (await r.list()).find((p) => p.key === key)
      expect(before?.sandboxReady).toBe(true)
      // The infra container's name is podman's (<pod id>-infra): find it through the pod.
      const pod = JSON.parse((await runCommand(['podman', 'pod', 'inspect', `t${tag}-rt-${tag}_infra`])).stdout) as { InfraContainerID: string }
      const pid = Number((await runCommand(['podman', 'inspect', '--format', '{{.State.Pid}}', pod.InfraContainerID])).stdout.trim())
      process.kill(pid, 'SIGKILL')
      await until(async () => (await r.list()).find((p) => p.key === key)?.sandboxReady === false)
      await r.ensureSandbox(spec)
      const after = (await r.list()).find((p) => p.key === key)
      expect(after?.sandboxReady).toBe(true)
      // The container was in the dead sandbox's namespace: stopped, for the reconciler to start again.
      expect(after?.containers[0]?.state).toBe('exited')
      await r.startContainer(spec, 'main')
      expect((await r.list()).find((p) => p.key === key)?.containers[0]?.state).toBe('running')

      const limits = JSON.parse((await runCommand(['podman', 'inspect', `t${tag}-rt-${tag}_infra-main`])).stdout) as Array<{ HostConfig: { Memory: number; CpuQuota: number; CpuPeriod: number } }>
      expect(limits[0]?.HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, CpuQuota: 50_000, CpuPeriod: 100_000 })
    } finally {
      await r.removePod(key, 0)
    }
  })
})

async function until(ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
