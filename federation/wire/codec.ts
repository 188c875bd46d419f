/**
 * Message codec: deterministic CBOR + zod validation + the size limit, in both directions. Encoders return
 * the exact bytes that go on the wire, so the hub can encode a chunk once and write it to many streams.
 */
import type { z } from 'zod'
import { isRecord } from '../../api/is-record.js'
import { AGENT_MESSAGE_TYPES, AgentMessageSchema, HUB_MESSAGE_TYPES, HubMessageSchema, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type AgentMessage, type HubMessage } from '../../api/federation/messages.js'
import { decodeCanonical, encodeCanonical } from './cbor.js'
import { MessageTooLargeError, ProtocolError } from './errors.js'

/** `size`: encoded bytes of the message, for accounting. */
export type DecodeResult<M> = ({ ok: true; message: M } | { ok: false; error: ProtocolError | MessageTooLargeError }) & { size: number }

function encodeChecked(message: unknown, limit: number): Buffer {
  const bytes = encodeCanonical(message)
  if (bytes.length > limit) throw new MessageTooLargeError(bytes.length, limit)
  return bytes
}

function decodeChecked<M>(bytes: Uint8Array, schema: z.ZodType<M>, types: readonly string[], limit: number): M {
  if (bytes.length > limit) throw new MessageTooLargeError(bytes.length, limit)
  const raw = decodeCanonical(bytes)
  if (!isRecord(raw)) {
    throw new ProtocolError('message is not a CBOR map')
  }
  const { v, type } = raw as { v?: unknown; type?: unknown }
  if (v !== PROTOCOL_VERSION) {
    throw new ProtocolError(`unsupported protocol version ${JSON.stringify(v)} (this side speaks ${PROTOCOL_VERSION})`, { context: { v } })
  }
  if (typeof type !== 'string' || !types.includes(type)) {
    throw new ProtocolError(`unknown message type ${JSON.stringify(type)} (expected one of ${types.join(', ')})`, { context: { type } })
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }))
    throw new ProtocolError(`invalid ${type} message: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues })
  }
  return parsed.data
}

function result<M>(size: number, fn: () => M): DecodeResult<M> {
  try {
    return { ok: true, message: fn(), size }
  } catch (err) {
    if (err instanceof ProtocolError || err instanceof MessageTooLargeError) return { ok: false, error: err, size }
    return { ok: false, error: new ProtocolError(String(err), { cause: err }), size }
  }
}

export function encodeAgentMessage(message: AgentMessage, limit = MAX_MESSAGE_BYTES): Buffer {
  return encodeChecked(message, limit)
}

export function encodeHubMessage(message: HubMessage, limit = MAX_MESSAGE_BYTES): Buffer {
  return encodeChecked(message, limit)
}

/** Hub side: bytes from an agent. Never throws; a failure closes only that agent's stream. */
export function decodeAgentMessage(bytes: Uint8Array, limit = MAX_MESSAGE_BYTES): DecodeResult<AgentMessage> {
  return result(bytes.length, () => decodeChecked(bytes, AgentMessageSchema, AGENT_MESSAGE_TYPES, limit))
}

/** Agent side: bytes from the hub. Never throws. */
export function decodeHubMessage(bytes: Uint8Array, limit = MAX_MESSAGE_BYTES): DecodeResult<HubMessage> {
  return result(bytes.length, () => decodeChecked(bytes, HubMessageSchema, HUB_MESSAGE_TYPES, limit))
}
