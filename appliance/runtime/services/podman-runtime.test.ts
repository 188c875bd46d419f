import { afterAll } from 'vitest'
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

describeRuntimeCases('podman', async () => {
  // Built from Debian's busybox-static and cached by content hash: shared by runs, not removed after one.
  const image = await ensureBusyboxImage('localhost/dpu-test-busybox:1')
  const create = (): PodmanRuntime => new PodmanRuntime({ socketPath, owner, infraImage: image, podNamePrefix: `t${tag}-` })
  keeper = create()
  await keeper.list()
  return { image, create }
})
