/**
 * Every error code of the project, with the HTTP meaning it has when it reaches the REST API.
 * A new code is added here first: `appliance/rest/problem.ts` maps this table, so a code without an
 * HTTP meaning does not exist. Keep each domain's block together and sorted.
 */
export const ERROR_CODES = {
  // api: resource validation and decoding at the edge
  'api.validation': { status: 400, title: 'Invalid request' },
  'api.decode': { status: 400, title: 'Malformed document' },
  'api.unknown-kind': { status: 404, title: 'Unknown resource kind' },
  'api.wrong-api-version': { status: 400, title: 'Wrong apiVersion for kind' },
  'api.duplicate-object': { status: 400, title: 'Duplicate object in request' },
  'api.render': { status: 422, title: 'Cannot render fleet object for this node' },

  // rest: HTTP surface
  'rest.unauthorized': { status: 401, title: 'Missing or invalid bearer token' },
  'rest.not-found': { status: 404, title: 'Not found' },
  'rest.body-too-large': { status: 413, title: 'Request body too large' },
  'rest.unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'rest.method-not-allowed': { status: 405, title: 'Method not allowed' },
  // past the watch caps (in total, per client): the client retries later (Retry-After)
  'rest.too-many-watches': { status: 429, title: 'Too many watches' },
  // past the caps on `logs -f` streams (in total, per client)
  'rest.too-many-log-follows': { status: 429, title: 'Too many log follow streams' },
  // the Host header names neither this appliance's address nor an allowed host name (DNS rebinding)
  'rest.host-not-allowed': { status: 421, title: 'Host not allowed' },
  'rest.unreachable': { status: 503, title: 'Appliance not reachable' },
  // a route was registered without its OpenAPI operation, or two routes claim one operation: a bug, not a request error
  'rest.api-description': { status: 500, title: 'API description does not match the routes' },

  // store: SQLite desired/observed state
  'store.not-found': { status: 404, title: 'Object not found' },
  'store.conflict': { status: 409, title: 'Generation conflict' },
  'store.read-only': { status: 409, title: 'Object is owned by the hub' },
  'store.io': { status: 503, title: 'Store not available' },
  'store.corrupt': { status: 500, title: 'Store is corrupt' },
  'store.expired': { status: 410, title: 'Resource version is too old to watch from' },
  // another process holds the data directory's lock (a second appliance, or cleanup while one runs)
  'store.locked': { status: 409, title: 'Data directory is in use by another process' },

  // desired: local desired-state rules (fleet objects and the node objects rendered from them)
  'desired.rendered-object': { status: 409, title: 'Object is rendered from a fleet object' },

  // ovsdb: RFC 7047 client
  'ovsdb.unavailable': { status: 503, title: 'Open vSwitch database not reachable' },
  'ovsdb.protocol': { status: 502, title: 'Open vSwitch database protocol error' },
  'ovsdb.operation-failed': { status: 502, title: 'Open vSwitch database operation failed' },
  'ovsdb.timeout': { status: 504, title: 'Open vSwitch database timed out' },
  'ovsdb.schema': { status: 502, title: 'Open vSwitch database schema mismatch' },
  // a `wait` on rows we read failed: another writer changed them; re-read and retry
  'ovsdb.conflict': { status: 409, title: 'Open vSwitch database rows changed concurrently' },

  // openflow: OF 1.4/1.5 client
  'openflow.unavailable': { status: 503, title: 'OpenFlow connection not available' },
  'openflow.protocol': { status: 502, title: 'OpenFlow protocol error' },
  'openflow.rejected': { status: 502, title: 'Switch rejected an OpenFlow message' },
  'openflow.timeout': { status: 504, title: 'OpenFlow request timed out' },
  'openflow.encode': { status: 500, title: 'Cannot encode OpenFlow message' },

  // flows: flow model and pipeline verification
  'flows.invalid': { status: 500, title: 'Generated flow violates the pipeline' },

  // appctl: ovs-appctl against ovs-vswitchd (ofproto/trace); trace: chain packet traces
  'appctl.unavailable': { status: 503, title: 'ovs-vswitchd control socket not reachable' },
  'appctl.failed': { status: 502, title: 'ovs-appctl command failed' },
  'trace.port': { status: 422, title: 'Port cannot be traced in this chain' },

  // reconcile / runtime
  'reconcile.failed': { status: 500, title: 'Reconcile failed' },
  'runtime.command-failed': { status: 500, title: 'Host command failed' },
  'runtime.invalid-name': { status: 400, title: 'Invalid host interface or namespace name' },
  'runtime.unexpected-output': { status: 502, title: 'Host command printed output we cannot read' },
  'service.not-running': { status: 409, title: 'The service has no running pod or container' },
  'service.container-not-found': { status: 404, title: 'No such container in the service' },
  'runtime.sandbox-missing': { status: 503, title: 'The service pod sandbox (network namespace) does not exist yet' },
  // service runtime backends (process, podman)
  'runtime.invalid-spec': { status: 400, title: 'Invalid service runtime spec' },
  'runtime.not-found': { status: 404, title: 'Service pod or container not found in the runtime' },
  'runtime.not-running': { status: 409, title: 'Service container is not running' },
  'runtime.exec-timeout': { status: 504, title: 'Command in a service container timed out' },
  'runtime.state-corrupt': { status: 500, title: 'Service runtime state file is unreadable' },
  'runtime.podman': { status: 502, title: 'Podman API request failed' },
  'runtime.podman-unavailable': { status: 503, title: 'Podman API not reachable' },

  // image: BFB and bundle
  'bfb.format': { status: 400, title: 'Invalid BFB stream' },
  'bfb.crc': { status: 400, title: 'BFB image checksum mismatch' },
  'bfb.io': { status: 500, title: 'BFB file I/O failed' },
  'image.input': { status: 400, title: 'Invalid image build input' },
  'image.arch-mismatch': { status: 400, title: 'Architecture does not match target' },

  // ignition
  'ignition.input': { status: 400, title: 'Invalid Ignition input' },

  // federation
  'federation.protocol': { status: 400, title: 'Federation protocol error' },
  'federation.too-large': { status: 413, title: 'Federation message too large' },
  'federation.identity': { status: 403, title: 'Peer identity not allowed' },
  'federation.unavailable': { status: 503, title: 'Hub not reachable' },
  'federation.certs': { status: 500, title: 'Certificate tooling failed' },
  'federation.source': { status: 502, title: 'Fleet object source failed' },
  'federation.helm': { status: 502, title: 'Helm chart could not be rendered' },
  'federation.stale-revision': { status: 409, title: 'Revision is not newer than the applied one' },

  // config: daemon configuration files and flags
  'config.invalid': { status: 400, title: 'Invalid configuration' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof ERROR_CODES
