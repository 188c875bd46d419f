/**
 * What the chain compiler reads and produces. Inputs are snapshots (store objects + what OVSDB shows for each
 * ServiceInterface's port); outputs are desired flows per bridge and a per-chain report for status. Pure data.
 */
import type { Instruction, Match } from '../ovs/openflow/model.js'

/** A ServiceInterface as the compiler needs it. */
export interface ChainInterface {
  namespace: string
  name: string
  labels: Readonly<Record<string, string>>
  /** `vlan` interfaces are virtual ports: a tag on their parent's port. */
  vlan?: { vlanId: number; parent: string }
}

/** The observed OVS side of a ServiceInterface's port (from the OVSDB monitor), keyed by `namespace/name`. */
export interface ObservedPort {
  bridge: string
  /** OpenFlow port number; absent or -1 while vswitchd has not attached it. */
  ofport?: number
  /** MAC of the endpoint behind the port (a service's interface), when known. Uplinks have none. */
  mac?: string
}

/**
 * A wire between two ports of one bridge that is not a chain: an HBN service's own port on br-hbn and its patch
 * twin there (DPF's HBN port model), so a chain reaching the patch's br-sfc side reaches the service.
 */
export interface PortWire {
  bridge: string
  a: number
  b: number
}

export interface ChainSwitchInput {
  ports: ReadonlyArray<{ serviceInterface: { matchLabels: Readonly<Record<string, string>> } }>
  serviceMTU?: number
}

export interface ChainInput {
  namespace: string
  name: string
  generation: number
  /** `metadata.creationTimestamp`: when two chains want one interface, the older keeps it. */
  createdAt?: string
  switches: readonly ChainSwitchInput[]
}

export interface CompileInput {
  chains: readonly ChainInput[]
  interfaces: readonly ChainInterface[]
  ports: ReadonlyMap<string, ObservedPort>
}

/** A desired flow: identity (table, priority, match), data (cookie, instructions). */
export interface DesiredFlow {
  table: number
  priority: number
  match: Match
  cookie: bigint
  instructions: Instruction[]
}

export type PortProblem =
  | { kind: 'no-match'; selector: string }
  | { kind: 'ambiguous'; selector: string; candidates: string[] }
  | { kind: 'not-attached'; interface: string }
  | { kind: 'port-in-use'; interface: string; usedBy: string }
  | { kind: 'bridge-mismatch'; interface: string; bridge: string; expected: string }

export interface SwitchReport {
  index: number
  /** `namespace/name` of each resolved ServiceInterface, in port order (undefined where unresolved). */
  interfaces: Array<string | undefined>
  ofports: Array<number | undefined>
  bridge?: string
  problems: PortProblem[]
  flowCount: number
  programmed: boolean
}

export interface ChainReport {
  namespace: string
  name: string
  generation: number
  cookie: bigint
  switches: SwitchReport[]
  /** Offload lint findings for this chain's flows (empty: every flow is offloadable). */
  offloadFindings: string[]
}

export interface CompileOutput {
  /** Desired flows per bridge, for every bridge that any chain programs. */
  flows: Map<string, DesiredFlow[]>
  reports: ChainReport[]
}
