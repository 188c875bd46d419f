import type { Logger, Registry } from '../observe/index.js'
import type { NodeIdentity } from '../desired/index.js'
import type { Store } from '../store/index.js'

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
  /** SSE keep-alive comment interval (default 15 s). */
  watchHeartbeatMs?: number
}
