/** Shared fixtures for federation tests: a development PKI, sample DPF manifests, and the real parse/render. */
import { mkdtemp, readFile, rm, writeFile, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseDocuments, parseObject } from '../../api/resources/registry.js'
import { renderForNode } from '../../api/render/index.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { initDevPki, issueDpuCertificate } from '../../federation/certs/openssl.js'

export const parseManifest = (text: string, source: string): ParsedObject[] => parseDocuments(text, source).map((raw) => parseObject(raw, source))
export const render = (obj: ParsedObject, node: { name: string; labels: Readonly<Record<string, string>> }): ParsedObject[] => renderForNode(obj, { name: node.name, labels: node.labels })

export interface Pki {
  dir: string
  tls(name: string): Promise<{ cert: Buffer; key: Buffer; ca: Buffer }>
}

/** A CA, a hub certificate and client certificates for the given DPUs, in a temp dir. */
export async function makePki(dpus: string[]): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'fed-pki-'))
  await initDevPki(dir)
  for (const dpu of dpus) await issueDpuCertificate({ caDir: dir, outDir: dir, dpu })
  return {
    dir,
    async tls(name) {
      return { cert: await readFile(join(dir, `${name}.crt`)), key: await readFile(join(dir, `${name}.key`)), ca: await readFile(join(dir, 'ca.crt')) }
    },
  }
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true })
}

/** Writes a file atomically (temp + rename), as editors and GitOps tools do. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text)
  await rename(`${path}.tmp`, path)
}

/** A DPUServiceInterface per uplink, for every DPU. */
export const INTERFACES_YAML = `
apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceInterface
metadata: {name: p0, namespace: dpf-operator-system}
spec:
  template:
    spec:
      template:
        metadata:
          labels: {uplink: "p0"}
        spec:
          interfaceType: physical
          physical: {interfaceName: p0}
---
apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceInterface
metadata: {name: p0-sf, namespace: dpf-operator-system}
spec:
  template:
    spec:
      template:
        metadata:
          labels:
            svc.dpu.nvidia.com/interface: "p0_sf"
            svc.dpu.nvidia.com/service: fw
        spec:
          interfaceType: service
          service: {serviceID: fw, network: mybr, interfaceName: p0_if}
`

/** A DPUServiceChain rendered only on DPUs labelled `zone=<zone>`; `extra` lands in the rendered annotations. */
export function chainYaml(name: string, zone: string, extra = ''): string {
  return `
apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceChain
metadata: {name: ${name}, namespace: dpf-operator-system}
spec:
  template:
    spec:
      nodeSelector:
        matchLabels: {zone: "${zone}"}
      template:
        metadata: {annotations: {note: "${extra}"}}
        spec:
          switches:
            - ports:
              - serviceInterface: {matchLabels: {uplink: p0}}
              - serviceInterface:
                  matchLabels: {svc.dpu.nvidia.com/service: fw, svc.dpu.nvidia.com/interface: "p0_sf"}
`
}
