import type { Logger, Registry } from '../observe/index.js'
import type { NodeIdentity } from '../desired/index.js'
import type { Store } from '../store/index.js'
import type { WatchAdmission } from './watch-limits.js'
import type { LogFollowAdmission } from './log-limits.js'
import type { VersionInfo } from '../../api/version-info.js'

/** A readiness check for `/readyz`: the store now; OVS and the hub connection later. */
export type ReadinessCheck = () => { name: string; ok: boolean; message?: string }

export interface RestDeps {
  store: Store
  log: Logger
  /** Metrics registry the app adds its collectors to and serves at `/metrics`. */
  registry: Registry
  /** The bearer token; called per request. */
  token: () => string
  node: NodeIdentity
  readiness?: readonly ReadinessCheck[]
  /** Request body limit in bytes (default 1 MiB). */
  bodyLimitBytes?: number
  /** Host header values served besides IP literals, localhost, the node and host names (`*`: any). */
  allowedHosts?: readonly string[]
  /** Serve `/metrics` and `/openapi.json` without the token (default: behind it). */
  publicMetrics?: boolean
  /** SSE keep-alive comment interval (default 15 s). */
  watchHeartbeatMs?: number
  /** The caps on watch streams and their queues (default `DEFAULT_WATCH_LIMITS`); shared with the metrics. */
  watchAdmission?: WatchAdmission
  /** The appliance's own state for `/apis/appliance/v1/status` (`dpuctl status`): hub sync, OVS connection. */
  status?: () => Record<string, unknown>
  /** Observed switch state (`/apis/appliance/v1/bridges`, `/flows`, ...); absent when running without OVS. */
  switchView?: SwitchView
  /**
   * Resolves true once the chains a write committed at `resourceVersion` are installed (barrier reply), false
   * after `timeoutMs`; backs `POST /apis/appliance/v1/apply?wait=installed`. Absent without OVS.
   */
  waitInstalled?: (resourceVersion: number, timeoutMs: number) => Promise<boolean>
  /** Logs, exec and restart of running Services (the services reconciler); absent without a service runtime. */
  serviceOps?: ServiceOps
  /** The caps on `logs -f` streams (default `DEFAULT_LOG_FOLLOW_LIMITS`). */
  logFollowAdmission?: LogFollowAdmission
  /** What `/version` answers (default: this package's version, the running Node.js and platform). */
  version?: VersionInfo
}

/** What the appliance shows of its switch; plain data, filled by the node controller. */
export interface SwitchView {
  bridges(): ReadonlyArray<Record<string, unknown>>
  /** Installed flows per bridge, rendered as ovs-ofctl text, with counters when `stats` is set. */
  flows?(bridge: string | undefined, opts: { stats: boolean }): Promise<ReadonlyArray<{ bridge: string; flows: string[] }>>
  /** `ofproto/trace` of a sample packet from a chain's port. */
  trace?(chain: { namespace: string; name: string }, from: string, packet: string | undefined): Promise<Record<string, unknown>>
  /** Packet and byte counters per chain (all chains, or one), read from flow stats now. */
  counters?(chain?: { namespace: string; name: string }): Promise<ReadonlyArray<Record<string, unknown>>>
}

/**
 * What the REST API may do to a running Service, by `namespace/name`; `ServicesReconciler` implements it. Errors
 * are `ServiceOperationError`s (`service.not-running`, `service.container-not-found`) or the runtime's.
 */
export interface ServiceOps {
  /** A container's output; `container` undefined: the first one. Ends at the end of the log unless `follow`. */
  logs(key: string, container: string | undefined, options: { follow?: boolean; tail?: number; since?: Date; signal?: AbortSignal }): Promise<{ container: string; stream: AsyncIterable<Uint8Array> }>
  exec(key: string, container: string | undefined, argv: readonly string[], timeoutMs: number): Promise<{ container: string; exitCode: number; stdout: string; stderr: string }>
  /** Stops every container of the service for the reconciler to start again; their names. */
  restart(key: string): Promise<string[]>
}
