/**
 * Federation wire messages (hub <-> agent), one gRPC bidirectional stream per DPU.
 *
 *   agent -> hub: hello, ack, nack, status, heartbeat
 *   hub -> agent: push (one chunk of a revision's upserts/removals), bookmark (ends a revision),
 *                 heartbeat (the answer to the agent's, so an idle agent knows when it last heard from the hub)
 *
 * A revision is sent as zero or more `push` chunks followed by exactly one `bookmark` carrying
 * `{revision, nonce}`; at most one revision is un-acknowledged per agent, so chunks belong to the bookmark
 * that follows them. An agent with nothing new receives a bookmark alone. Chunks carry no per-agent field, so
 * the hub encodes them once per distinct delta and shares the bytes between agents.
 *
 * Every message carries the protocol version `v`. Encoding is deterministic CBOR (RFC 8949 §4.2.1) with no
 * library-specific extensions: see `federation/wire/cbor.ts`.
 */
import { z } from 'zod'

export const PROTOCOL_VERSION = 1
/** Largest encoded message either side sends or accepts (Istio's gRPC receive limit; K8s objects are <= 1.5 MiB). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024
/** The hub starts a new chunk once the encoded objects in a chunk exceed this. */
export const CHUNK_TARGET_BYTES = 256 * 1024

/** `apiVersion/kind/namespace/name`, as `refKey` in `api/meta.ts`. */
export const ObjectKeySchema = z.string().min(3).max(600)
/** Hex SHA-256 prefix (128 bits) over the object's deterministic CBOR. */
export const ObjectHashSchema = z.string().regex(/^[0-9a-f]{32}$/, 'object hash must be 32 lower-case hex digits')
export const RevisionSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const NonceSchema = z.string().min(1).max(64)
const DpuNameSchema = z.string().min(1).max(253)

/** A desired object as the hub sends it: the node-level object plus its key and content hash. */
export const WireObjectSchema = z.object({
  key: ObjectKeySchema,
  hash: ObjectHashSchema,
  /**
   * `spec.node` was this DPU's own name and was left out on the wire; the agent puts it back before storing.
   * This makes the objects of DPUs with the same labels identical, so the hub renders, hashes and encodes
   * them once for all of them.
   */
  nodeRelative: z.literal(true).optional(),
  object: z.object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: z
      .object({
        name: z.string().min(1),
        namespace: z.string().optional(),
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .loose(),
    spec: z.record(z.string(), z.unknown()),
  }),
})
export type WireObject = z.infer<typeof WireObjectSchema>

const v = z.literal(PROTOCOL_VERSION)

export const HelloSchema = z.object({
  v,
  type: z.literal('hello'),
  /** Must equal the identity in the client certificate; the hub never takes identity from this field. */
  dpu: DpuNameSchema,
  appliedRevision: RevisionSchema,
  /** key -> hash of every hub-origin object the agent holds. */
  objectHashes: z.record(ObjectKeySchema, ObjectHashSchema),
  versions: z.object({ protocol: z.number().int(), agent: z.string().max(64) }),
  /** Labels the DPU reports about itself; used only when the hub's DPU registry has no entry for it. */
  labels: z.record(z.string(), z.string()).optional(),
})
export type Hello = z.infer<typeof HelloSchema>

export const AckSchema = z.object({ v, type: z.literal('ack'), nonce: NonceSchema, revision: RevisionSchema })

export const WireErrorSchema = z.object({
  code: z.string().max(128),
  message: z.string().max(4096),
  issues: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .max(100)
    .optional(),
})
export type WireError = z.infer<typeof WireErrorSchema>

export const NackSchema = z.object({
  v,
  type: z.literal('nack'),
  nonce: NonceSchema,
  lastGoodRevision: RevisionSchema,
  error: WireErrorSchema,
})

/** Accepted is not applied: a revision moves accepted -> applying -> applied -> healthy, or rolled-back/failed. */
export const RevisionPhaseSchema = z.enum(['accepted', 'applying', 'applied', 'healthy', 'rolled-back', 'failed'])
export type RevisionPhase = z.infer<typeof RevisionPhaseSchema>

export const WireConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
})

export const ObjectStatusReportSchema = z.object({
  key: ObjectKeySchema,
  phase: z.string().optional(),
  conditions: z.array(WireConditionSchema).max(32),
})
export type ObjectStatusReport = z.infer<typeof ObjectStatusReportSchema>

/** The agent's full status, sent when it changes (coalesced): revision phase and per-object conditions. */
export const StatusSchema = z.object({
  v,
  type: z.literal('status'),
  revision: RevisionSchema,
  phase: RevisionPhaseSchema,
  objects: z.array(ObjectStatusReportSchema).max(10_000),
})
export type Status = z.infer<typeof StatusSchema>

export const HeartbeatSchema = z.object({ v, type: z.literal('heartbeat') })

export const PushSchema = z.object({
  v,
  type: z.literal('push'),
  /** Index of this chunk within the revision, from 0. */
  seq: z.number().int().nonnegative(),
  upserts: z.array(WireObjectSchema),
  removals: z.array(ObjectKeySchema),
})

export const BookmarkSchema = z.object({
  v,
  type: z.literal('bookmark'),
  revision: RevisionSchema,
  nonce: NonceSchema,
  /** Number of push chunks this bookmark closes (0: the agent is up to date). */
  chunks: z.number().int().nonnegative(),
  /** Hub time (ms since epoch) when the revision's change was seen, for convergence measurement. */
  committedAt: z.number().int().nonnegative(),
})
export type Bookmark = z.infer<typeof BookmarkSchema>

export const AgentMessageSchema = z.discriminatedUnion('type', [HelloSchema, AckSchema, NackSchema, StatusSchema, HeartbeatSchema])
export type AgentMessage = z.infer<typeof AgentMessageSchema>

export const HubMessageSchema = z.discriminatedUnion('type', [PushSchema, BookmarkSchema, HeartbeatSchema])
export type HubMessage = z.infer<typeof HubMessageSchema>

export const AGENT_MESSAGE_TYPES = ['hello', 'ack', 'nack', 'status', 'heartbeat'] as const
export const HUB_MESSAGE_TYPES = ['push', 'bookmark', 'heartbeat'] as const
