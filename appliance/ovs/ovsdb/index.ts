/** Public surface of the native OVSDB client (RFC 7047 + OVS extensions). Re-exports only. */
export { OvsdbClient } from './client.js'
export type { SyncInfo } from './client.js'
export { TableCache } from './cache.js'
export type { RowChange } from './cache.js'
export * from './errors.js'
export { parseDatabaseSchema } from './schema.js'
export { DEFAULT_TABLES, typedColumns } from './rows.js'
export { TransactionBuilder, whereName, whereUuid } from './txn.js'
