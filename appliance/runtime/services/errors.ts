/**
 * Errors of the service runtime backends. Each names the pod key and container it is about in `context`, so a
 * reconciler's condition message and `dpuctl describe` say which service failed and where.
 */
import { ApplianceError, type FieldIssue } from '../../../api/errors.js'

/** A pod spec handed to a backend failed validation (a reconciler bug or a resolved field out of range). */
export class InvalidRuntimeSpecError extends ApplianceError {
  constructor(what: string, issues: readonly FieldIssue[]) {
    super('runtime.invalid-spec', `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { context: { what }, issues })
  }
}

export class RuntimeNotFoundError extends ApplianceError {
  constructor(
    readonly key: string,
    readonly container?: string,
  ) {
    super('runtime.not-found', container === undefined ? `pod ${key} not found` : `container ${container} of pod ${key} not found`, { context: { key, container } })
  }
}

export class ContainerNotRunningError extends ApplianceError {
  constructor(key: string, container: string, state: string) {
    // Retryable: the reconciler may be restarting it right now.
    super('runtime.not-running', `container ${container} of pod ${key} is ${state}, not running`, { context: { key, container, state }, retryable: true })
  }
}

export class ExecTimeoutError extends ApplianceError {
  constructor(key: string, container: string, argv: readonly string[], timeoutMs: number) {
    super('runtime.exec-timeout', `exec ${argv.join(' ')} in ${key}/${container}: no exit after ${timeoutMs} ms`, {
      context: { key, container, argv: [...argv], timeoutMs },
      retryable: true,
    })
  }
}

export class RuntimeStateCorruptError extends ApplianceError {
  constructor(path: string, reason: string, cause?: unknown) {
    super('runtime.state-corrupt', `runtime state ${path}: ${reason}`, { context: { path, reason }, cause })
  }
}

/** Podman answered with an error status; `status` and podman's own `cause`/`message` are kept. */
export class PodmanApiError extends ApplianceError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly podmanMessage: string,
  ) {
    // 5xx from podman is often transient (storage lock, a container changing state under us).
    super('runtime.podman', `podman ${method} ${path}: ${status}${podmanMessage ? `: ${podmanMessage}` : ''}`, {
      context: { method, path, status, message: podmanMessage },
      retryable: status >= 500,
    })
  }
}

export class PodmanUnavailableError extends ApplianceError {
  constructor(socketPath: string, reason: string, cause?: unknown) {
    super('runtime.podman-unavailable', `podman API at ${socketPath}: ${reason}`, { context: { socketPath, reason }, cause, retryable: true })
  }
}
