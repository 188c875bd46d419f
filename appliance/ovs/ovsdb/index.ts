/** Public surface of the native OVSDB client (RFC 7047 + OVS extensions). Re-exports only. */
export { OvsdbClient, openRemote } from './client.js'
export type { ClientEvents, ConnectionState, MonitorMethod, OvsdbClientOptions, OvsdbLogger, SyncInfo, TableSelection } from './client.js'
export { TableCache, CacheInconsistentError, rowEquals } from './cache.js'
export type { ChangeKind, RowChange } from './cache.js'
export * from './errors.js'
export { JsonStreamSplitter, DEFAULT_MAX_MESSAGE_BYTES } from './framing.js'
export {
  NamedUuid,
  Uuid,
  ZERO_UUID,
  namedUuid,
  uuid,
  decodeDatum,
  encodeDatum,
  encodeUntyped,
  applyDatumDiff,
  datumEquals,
  defaultDatum,
} from './notation.js'
export type { Atom, Datum, EncodableDatum, Json } from './notation.js'
export { DEFAULT_TABLES, TYPED_TABLES, BridgeRowSchema, InterfaceRowSchema, OpenVSwitchRowSchema, PortRowSchema } from './rows.js'
export type { BridgeRow, InterfaceRow, OpenVSwitchRow, PortRow, Row, TypedRows, TypedTable } from './rows.js'
export { parseDatabaseSchema, buildColumnType } from './schema.js'
export type { ColumnType, DatabaseSchema, TableSchema } from './schema.js'
export { TransactionBuilder, TransactionResult, checkOperationResults, isRetrySafe, summarizeOperation, whereName, whereUuid } from './txn.js'
export type { RowLookup, Condition, ConditionFunction, Mutation, MutationSpec, Mutator, Operation, OperationResult, RowSpec, Where } from './txn.js'
