/** Hub metrics (Prometheus text at /metrics), in their own registry so tests can run several hubs. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

export class HubMetrics {
  readonly registry = new Registry()
  readonly connected = new Gauge({ name: 'dpu_hub_connected_agents', help: 'Agent streams that completed hello', registers: [this.registry] })
  readonly pushes = new Counter({ name: 'dpu_hub_pushes_total', help: 'Revisions sent (bookmarks included)', registers: [this.registry] })
  readonly pushBytes = new Counter({ name: 'dpu_hub_push_bytes_total', help: 'Encoded bytes of push chunks and bookmarks sent', registers: [this.registry] })
  readonly encodes = new Counter({ name: 'dpu_hub_delta_encodes_total', help: 'Deltas encoded (one per distinct delta, shared between agents)', registers: [this.registry] })
  readonly acks = new Counter({ name: 'dpu_hub_acks_total', help: 'Acknowledged revisions', registers: [this.registry] })
  readonly nacks = new Counter({ name: 'dpu_hub_nacks_total', help: 'Rejected revisions', registers: [this.registry] })
  readonly streamErrors = new Counter({
    name: 'dpu_hub_stream_errors_total',
    help: 'Streams closed by the hub for a protocol or identity error',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })
  readonly ackLatency = new Histogram({
    name: 'dpu_hub_push_ack_seconds',
    help: 'From sending a revision to its ack',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })
  readonly heldChanges = new Gauge({
    name: 'dpu_hub_held_source_changes',
    help: "Source changes held because they would remove more than the allowed share of a DPU's objects (confirm with dpuctl hub confirm)",
    registers: [this.registry],
  })
  readonly connectionsRefused = new Counter({
    name: 'dpu_hub_connections_refused_total',
    help: 'Connections the hub refused before any stream: TLS handshake failures (tls.*) and connections over the per-identity cap (federation.connection-limit)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })
  readonly behind: Gauge
  readonly connections: Gauge

  readonly streams: Gauge<'state'>
  readonly deltaCacheBytes: Gauge

  constructor(
    countBehind: () => number,
    countStreams: () => { awaitingHello: number; ready: number } = () => ({ awaitingHello: 0, ready: 0 }),
    cacheBytes: () => number = () => 0,
    countConnections: () => number = () => 0,
  ) {
    this.connections = new Gauge({
      name: 'dpu_hub_connections',
      help: 'Open HTTP/2 connections from agents (accepted ones, with or without a stream)',
      registers: [this.registry],
      collect() {
        this.set(countConnections())
      },
    })
    this.streams = new Gauge({
      name: 'dpu_hub_streams',
      help: 'Open agent streams by state (awaiting-hello streams are not in /v1/fleet)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const n = countStreams()
        this.set({ state: 'awaiting-hello' }, n.awaitingHello)
        this.set({ state: 'ready' }, n.ready)
      },
    })
    this.deltaCacheBytes = new Gauge({
      name: 'dpu_hub_delta_cache_bytes',
      help: 'Encoded bytes held by the delta cache',
      registers: [this.registry],
      collect() {
        this.set(cacheBytes())
      },
    })
    this.behind = new Gauge({
      name: 'dpu_hub_agents_behind',
      help: 'Connected agents whose acknowledged state differs from their desired state (sync lag)',
      registers: [this.registry],
      collect() {
        this.set(countBehind())
      },
    })
  }
}
