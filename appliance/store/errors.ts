/** Errors of the SQLite store. Each carries the object it concerns in `context`. */
import { ApplianceError } from '../../api/errors.js'
import { refKey, type ObjectRef } from '../../api/meta.js'

export class StoreNotFoundError extends ApplianceError {
  constructor(ref: ObjectRef) {
    super('store.not-found', `${ref.kind} ${ref.namespace}/${ref.name} not found`, { context: { ...ref } })
  }
}

export class StoreConflictError extends ApplianceError {
  constructor(ref: ObjectRef, expected: string, actual: string | undefined) {
    super(
      'store.conflict',
      actual === undefined
        ? `${ref.kind} ${ref.namespace}/${ref.name}: metadata.resourceVersion ${expected} given but the object does not exist`
        : `${ref.kind} ${ref.namespace}/${ref.name}: metadata.resourceVersion is ${actual}, the request expected ${expected}`,
      { context: { ...ref, expected, actual }, issues: [{ path: 'metadata.resourceVersion', message: 'object changed since it was read' }] },
    )
  }
}

export class StoreReadOnlyError extends ApplianceError {
  constructor(ref: ObjectRef, verb: 'apply' | 'delete' | 'status') {
    super('store.read-only', `${ref.kind} ${ref.namespace}/${ref.name} is owned by the federation hub; ${verb} it in the hub's source ` + `(the local API may only read hub-owned objects)`, {
      context: { ...ref, key: refKey(ref) },
    })
  }
}

export class DuplicateObjectError extends ApplianceError {
  constructor(ref: ObjectRef, first: number, second: number) {
    super('api.duplicate-object', `${ref.kind} ${ref.namespace}/${ref.name} appears twice in one request (items ${first} and ${second})`, {
      context: { ...ref, first, second },
      issues: [{ path: `items[${second}].metadata.name`, message: `duplicates items[${first}]` }],
    })
  }
}

export class WatchExpiredError extends ApplianceError {
  constructor(since: number, oldest: number) {
    super('store.expired', `cannot watch from resourceVersion ${since}: the oldest change still held is ${oldest}; list again`, {
      context: { since, oldest },
    })
  }
}

export class StoreIoError extends ApplianceError {
  constructor(message: string, cause: unknown) {
    super('store.io', message, { cause, retryable: true })
  }
}

export class StoreCorruptError extends ApplianceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('store.corrupt', message, { context })
  }
}

/** Another process holds the data directory's lock (`data-dir-lock.ts`); `holder` is known when it is still alive. */
export class DataDirLockedError extends ApplianceError {
  constructor(dataDir: string, holder: { pid: number; command: string; since: string } | undefined) {
    super(
      'store.locked',
      `data dir ${dataDir} is in use by ` +
        (holder ? `dpuctl ${holder.command} (pid ${holder.pid}, since ${holder.since})` : 'another process (its pid is not known)') +
        '; stop it first, or give this one another --data-dir',
      { context: { dataDir, ...(holder ? { pid: holder.pid, command: holder.command } : {}) } },
    )
  }
}
