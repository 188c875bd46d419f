/**
 * A stand-in appliance for the kill -9 case of process-runtime.test.ts: starts one container through a
 * ProcessRuntime, prints `started <pid>`, and idles until it is killed. Run as
 * `node --import tsx runtime-child.ts '<json {stateDir, owner, spec, container}>'`.
 */
import { ProcessRuntime } from '../process-runtime.js'
import type { RuntimePodSpec } from '../runtime.js'

const { stateDir, owner, spec, container } = JSON.parse(process.argv[2] ?? '{}') as { stateDir: string; owner: string; spec: RuntimePodSpec; container: string }
const runtime = new ProcessRuntime({ stateDir, owner })
await runtime.ensureSandbox(spec)
await runtime.startContainer(spec, container)
const pid = (await runtime.list()).find((p) => p.key === spec.key)?.containers.find((c) => c.name === container)?.pid
process.stdout.write(`started ${pid}\n`)
setInterval(() => undefined, 60_000)
