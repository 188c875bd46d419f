/**
 * The one gRPC service: `dpu.federation.v1.Federation/Sync`, a bidirectional stream per DPU. No protobuf:
 * the serializers carry CBOR. Writers hand over already-encoded bytes (see codec.ts) so a chunk encoded once
 * can go to many streams; readers get a DecodeResult instead of an exception, so a bad message closes only its
 * own stream with a clear status rather than a generic "error deserializing request".
 */
import * as grpc from '@grpc/grpc-js'
import type { AgentMessage, HubMessage } from '../../api/federation/messages.js'
import { MAX_MESSAGE_BYTES } from '../../api/federation/messages.js'
import { decodeAgentMessage, decodeHubMessage, type DecodeResult } from './codec.js'

export const SYNC_PATH = '/dpu.federation.v1.Federation/Sync'

const passThrough = (bytes: Buffer): Buffer => bytes

export const FEDERATION_SERVICE = {
  sync: {
    path: SYNC_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: passThrough,
    requestDeserialize: (bytes: Buffer): DecodeResult<AgentMessage> => decodeAgentMessage(bytes),
    responseSerialize: passThrough,
    responseDeserialize: (bytes: Buffer): DecodeResult<HubMessage> => decodeHubMessage(bytes),
    originalName: 'sync',
  },
} as const satisfies grpc.ServiceDefinition

/** Server side of one stream: reads decoded agent messages, writes encoded hub messages. */
export type SyncServerStream = grpc.ServerDuplexStream<DecodeResult<AgentMessage>, Buffer>
/** Client side of one stream: writes encoded agent messages, reads decoded hub messages. */
export type SyncClientStream = grpc.ClientDuplexStream<Buffer, DecodeResult<HubMessage>>

/**
 * Channel options both sides use. Keepalive pings every 60 s keep NAT state and detect dead peers without
 * costing much idle bandwidth; the message limit is enforced by grpc-js in both directions.
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 0,
}

export const SERVER_OPTIONS: grpc.ChannelOptions = {
  ...CHANNEL_OPTIONS,
  // Agents ping every 60 s; tolerate it instead of answering GOAWAY "too_many_pings".
  'grpc.http2.min_ping_interval_without_data_ms': 30_000,
  'grpc.max_concurrent_streams': 4,
}

export const FederationClient = grpc.makeGenericClientConstructor(FEDERATION_SERVICE, 'Federation')
