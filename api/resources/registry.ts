/**
 * The table of every kind the product knows, and lookups by the names users and URLs use.
 * Fleet kinds are DPF's host-cluster objects (rendered per DPU by `api/render`); node kinds are what an appliance
 * acts on. DPUServiceNAD and DPUFlavor are used on the node exactly as DPF writes them, so they are node kinds.
 */
import type { z } from 'zod'
import type { KindInfo, KindLevel, ParsedObject } from './kind.js'
import { PROVISIONING_GROUP, SVC_GROUP, V1ALPHA1 } from './common.js'
import { BFBSchema } from './bfb.js'
import { DPUFlavorSchema } from './dpu-flavor.js'
import { DPUSetSchema } from './dpu-set.js'
import { DPUServiceSchema } from './dpu-service.js'
import { DPUServiceConfigurationSchema, DPUServiceTemplateSchema } from './dpu-service-template.js'
import { DPUDeploymentSchema } from './dpu-deployment.js'
import { DPUServiceIPAMSchema } from './dpu-service-ipam.js'
import { DPUServiceNADSchema } from './service-nad.js'
import { DPUServiceInterfaceSchema, ServiceInterfaceSchema } from './service-interface.js'
import { DPUServiceChainSchema, ServiceChainSchema } from './service-chain.js'
import { ServiceSchema } from './service.js'

function kindInfo(group: string, kind: string, plural: string, shortNames: readonly string[], level: KindLevel, schema: z.ZodType): KindInfo {
  return Object.freeze({
    group,
    version: V1ALPHA1,
    apiVersion: `${group}/${V1ALPHA1}`,
    kind,
    plural,
    singular: kind.toLowerCase(),
    shortNames: Object.freeze([...shortNames]),
    level,
    // Each kind's output (typed spec, defaulted namespace) is a ParsedObject; zod cannot see that through generics.
    schema: schema as z.ZodType<ParsedObject>,
  })
}

/** Every kind, provisioning first, then services; the order is stable (OpenAPI and `dpuctl api-resources`). */
export const KINDS: readonly KindInfo[] = Object.freeze([
  kindInfo(PROVISIONING_GROUP, 'BFB', 'bfbs', [], 'fleet', BFBSchema),
  kindInfo(PROVISIONING_GROUP, 'DPUFlavor', 'dpuflavors', ['dflavor'], 'node', DPUFlavorSchema),
  kindInfo(PROVISIONING_GROUP, 'DPUSet', 'dpusets', ['dset'], 'fleet', DPUSetSchema),
  kindInfo(SVC_GROUP, 'DPUDeployment', 'dpudeployments', ['ddeploy'], 'fleet', DPUDeploymentSchema),
  kindInfo(SVC_GROUP, 'DPUService', 'dpuservices', ['dsvc'], 'fleet', DPUServiceSchema),
  kindInfo(SVC_GROUP, 'DPUServiceChain', 'dpuservicechains', ['dsc'], 'fleet', DPUServiceChainSchema),
  kindInfo(SVC_GROUP, 'DPUServiceConfiguration', 'dpuserviceconfigurations', ['dsconfig'], 'fleet', DPUServiceConfigurationSchema),
  kindInfo(SVC_GROUP, 'DPUServiceIPAM', 'dpuserviceipams', ['dsipam'], 'fleet', DPUServiceIPAMSchema),
  kindInfo(SVC_GROUP, 'DPUServiceInterface', 'dpuserviceinterfaces', ['dsi'], 'fleet', DPUServiceInterfaceSchema),
  kindInfo(SVC_GROUP, 'DPUServiceNAD', 'dpuservicenads', ['dsnad'], 'node', DPUServiceNADSchema),
  kindInfo(SVC_GROUP, 'DPUServiceTemplate', 'dpuservicetemplates', ['dstemplate'], 'fleet', DPUServiceTemplateSchema),
  kindInfo(SVC_GROUP, 'Service', 'services', ['svc'], 'node', ServiceSchema),
  kindInfo(SVC_GROUP, 'ServiceChain', 'servicechains', ['sc'], 'node', ServiceChainSchema),
  kindInfo(SVC_GROUP, 'ServiceInterface', 'serviceinterfaces', ['si'], 'node', ServiceInterfaceSchema),
])

const BY_WORD = new Map<string, KindInfo>()
for (const k of KINDS)
  for (const name of [k.kind, k.singular, k.plural, ...k.shortNames]) for (const w of [name, `${name}.${k.group}`, `${name}.${k.version}.${k.group}`]) BY_WORD.set(w.toLowerCase(), k)

/**
 * A kind by any name a user types, as kubectl reads resource names: Kind, singular, plural or short name, alone
 * or followed by `.group` or `.version.group` (`sc.svc.dpu.nvidia.com`); case-insensitive.
 * @example findKind('dsc')?.kind === 'DPUServiceChain'
 */
export function findKind(word: string): KindInfo | undefined {
  return BY_WORD.get(word.toLowerCase())
}

/** Every name `findKind` knows (lower-case), for "did you mean". */
export function kindWords(): IterableIterator<string> {
  return BY_WORD.keys()
}

/** The kind with exactly this apiVersion and Kind (case-sensitive, as in manifests). */
export function kindFor(apiVersion: string, kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind && k.apiVersion === apiVersion)
}

/** The kind served at `/apis/{group}/{version}/.../{plural}`. */
export function kindByPath(group: string, version: string, plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.group === group && k.version === version && k.plural === plural)
}

// Re-exported so `registry.ts` is the one import for "which kinds exist and how input becomes one of them".
// parse-object.ts imports this module back; the cycle is safe because neither side uses the other at load time.
export { parseObject } from './parse-object.js'
export { parseDocuments } from './parse-documents.js'
