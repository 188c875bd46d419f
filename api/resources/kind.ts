/**
 * What the rest of the code knows about a resource kind: its names (for REST paths and dpuctl),
 * its level, and the zod schema that validates a whole object of that kind.
 * The table of kinds is `registry.ts`; this file is only the shape, so consumers can import it cheaply.
 */
import type { z } from 'zod'
import type { InputMeta } from '../meta.js'

export type KindLevel =
  /** DPF host-cluster kinds (`DPUServiceChain`, `DPUSet`, ...): rendered by the hub (or a standalone appliance). */
  | 'fleet'
  /** Per-DPU kinds the appliance acts on (`ServiceInterface`, `ServiceChain`, `DPUServiceNAD`, `DPUFlavor`, settings). */
  | 'node'

export interface KindInfo {
  group: string
  version: string
  /** `group/version` */
  apiVersion: string
  kind: string
  /** lower-case plural used in REST paths, e.g. `dpuservicechains` */
  plural: string
  /** lower-case singular, e.g. `dpuservicechain` */
  singular: string
  /** kubectl-style short names, e.g. `['dsc']` */
  shortNames: readonly string[]
  level: KindLevel
  /** Validates a whole object: `{apiVersion, kind, metadata, spec}` (status, if present, is ignored on input). */
  schema: z.ZodType<ParsedObject>
}

/** A validated input object (metadata normalised, spec of the kind's shape). */
export interface ParsedObject<Spec = Record<string, unknown>> {
  apiVersion: string
  kind: string
  metadata: InputMeta
  spec: Spec
}
