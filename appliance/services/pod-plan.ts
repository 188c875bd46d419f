/**
 * A stored Service -> the pod a runtime backend runs (`RuntimePodSpec`): volumes become host paths under the
 * appliance's state directory (emptyDir: a directory per volume; configMap: the Service's inline data written as
 * files), `command` + `args` become one argv, quantities become numbers, and a hash of the result tells the
 * reconciler when a running pod no longer matches its object (replace, one service at a time).
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { StoredObject } from '../../api/meta.js'
import { podFileName, type RuntimeContainerSpec, type RuntimeMount, type RuntimePodSpec } from '../runtime/services/runtime.js'
import { parseQuantity } from '../../api/resources/quantity.js'
import type { ServiceSpecView } from './service-view.js'

const OWNER_LABEL = 'dpu.appliance/service'

export interface PodPlanSettings {
  /** Root for emptyDir and configMap volumes (`<dataDir>/services`). */
  stateDir: string
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(v)
}

/** Writes `content` to `path` only when it differs (a steady state touches no file), atomically. */
function writeIfChanged(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) return
  } catch {
    // absent: write it
  }
  const tmp = `${path}.tmp`
  writeFileSync(tmp, content, { mode: 0o644 })
  renameSync(tmp, path)
}

/**
 * The volumes of a Service as host paths, created on disk (idempotent). A configMap volume holds the Service's
 * `configMaps[name]` entries (or only `items`, under their `path`).
 */
function materialiseVolumes(key: string, spec: ServiceSpecView, settings: PodPlanSettings): Map<string, string> {
  const root = join(settings.stateDir, podFileName(key))
  const paths = new Map<string, string>()
  for (const v of spec.template.spec.volumes ?? []) {
    if (v.hostPath) {
      paths.set(v.name, v.hostPath.path)
    } else if (v.emptyDir) {
      const dir = join(root, 'empty', v.name)
      mkdirSync(dir, { recursive: true, mode: 0o755 })
      paths.set(v.name, dir)
    } else if (v.configMap) {
      const dir = join(root, 'config', v.name)
      mkdirSync(dir, { recursive: true, mode: 0o755 })
      const data = spec.configMaps?.[v.configMap.name] ?? {}
      const items = v.configMap.items ?? Object.keys(data).map((k) => ({ key: k, path: k }))
      for (const item of items) {
        const file = join(dir, item.path)
        mkdirSync(join(file, '..'), { recursive: true, mode: 0o755 })
        writeIfChanged(file, data[item.key] ?? '')
      }
      paths.set(v.name, dir)
    }
  }
  return paths
}

/** The runnable pod of a Service. Throws only on file-system errors writing its volumes. */
export function planPod(svc: StoredObject, netnsName: string, settings: PodPlanSettings): RuntimePodSpec {
  const spec = svc.spec as unknown as ServiceSpecView
  const key = `${svc.metadata.namespace}/${svc.metadata.name}`
  const volumes = materialiseVolumes(key, spec, settings)
  const containers: RuntimeContainerSpec[] = spec.template.spec.containers.map((c) => {
    const mounts: RuntimeMount[] = (c.volumeMounts ?? []).flatMap((m) => {
      const hostPath = volumes.get(m.name)
      return hostPath === undefined ? [] : [{ hostPath, containerPath: m.mountPath, readOnly: m.readOnly ?? false }]
    })
    const limits = c.resources?.limits ?? {}
    const cpu = limits.cpu !== undefined ? parseQuantity(limits.cpu, 'cpuMillis', 'limits.cpu') : undefined
    const memory = limits.memory !== undefined ? parseQuantity(limits.memory, 'bytes', 'limits.memory') : undefined
    return {
      name: c.name,
      image: c.image,
      command: [...(c.command ?? []), ...(c.args ?? [])],
      ...(c.command === undefined ? { argsOnly: true } : {}),
      env: Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? ''])),
      ...(c.workingDir !== undefined ? { workingDir: c.workingDir } : {}),
      mounts,
      privileged: c.securityContext?.privileged ?? false,
      capAdd: c.securityContext?.capabilities?.add ?? [],
      capDrop: c.securityContext?.capabilities?.drop ?? [],
      limits: { ...(cpu !== undefined ? { cpuMillis: cpu } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) },
    }
  })
  const labels = { [OWNER_LABEL]: podFileName(key), 'svc.dpu.nvidia.com/service': spec.serviceID }
  // Config data is in the hash: a changed configuration restarts the service, as DPF's re-rendered pods do.
  const body = { key, netnsName, containers, labels, config: spec.configMaps ?? {} }
  const specHash = createHash('sha256').update(stableJson(body)).digest('hex').slice(0, 16)
  return { key, netnsName, containers, labels, specHash }
}
