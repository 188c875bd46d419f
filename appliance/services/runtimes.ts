/**
 * Which runtime backends this appliance runs services on, from its flags: `process` always (it needs nothing but
 * the kernel), `podman` when asked for or when its binary is installed. The default backend, the one a Service
 * without `spec.runtime` gets, is the flag's choice (`auto`: podman when installed).
 */
import { createHash } from 'node:crypto'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { PodmanRuntime } from '../runtime/services/podman-runtime.js'
import { ProcessRuntime } from '../runtime/services/process-runtime.js'
import type { ServiceRuntime } from '../runtime/services/runtime.js'
import type { RuntimeName } from './services-reconciler.js'

/** The pause image kubelet uses; on a DPU without it, pass --podman-infra-image. */
export const DEFAULT_INFRA_IMAGE = 'registry.k8s.io/pause:3.9'

export interface RuntimeSettings {
  serviceRuntime: 'auto' | 'podman' | 'process' | 'none'
  dataDir: string
  nodeName: string
  /** Keeps pod names of appliances sharing one podman apart (the service netns prefix). */
  namePrefix?: string
  podmanSocket?: string
  podmanInfraImage?: string
  podmanInfraCommand?: string
}

export interface ServiceRuntimes {
  runtimes: Partial<Record<RuntimeName, ServiceRuntime>>
  defaultRuntime: RuntimeName
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** undefined when services are off (`none`). */
export function createServiceRuntimes(s: RuntimeSettings): ServiceRuntimes | undefined {
  if (s.serviceRuntime === 'none') return undefined
  // What this appliance owns in a backend: unique per appliance and stable across its restarts (adoption), since
  // several appliances may share one podman (the demo, tests, benchmarks on one host).
  const owner = `${s.nodeName}.${createHash('sha256').update(s.dataDir).digest('hex').slice(0, 8)}`
  const runtimes: Partial<Record<RuntimeName, ServiceRuntime>> = {
    process: new ProcessRuntime({ stateDir: join(s.dataDir, 'services', 'process'), owner }),
  }
  // podman serves Services that ask for it whenever it is installed; the flag only picks the default.
  const podman = s.serviceRuntime === 'podman' || onPath('podman')
  if (podman)
    runtimes.podman = new PodmanRuntime({
      socketPath: s.podmanSocket ?? join(s.dataDir, 'podman.sock'),
      owner,
      infraImage: s.podmanInfraImage ?? DEFAULT_INFRA_IMAGE,
      ...(s.podmanInfraCommand ? { infraCommand: [s.podmanInfraCommand] } : {}),
      podNamePrefix: `${s.namePrefix ?? ''}dpu-`,
    })
  return { runtimes, defaultRuntime: s.serviceRuntime === 'process' || !podman ? 'process' : 'podman' }
}
