/** Errors of the HTTP surface itself (not of the objects behind it). */
import { ApplianceError } from '../../api/errors.js'

export class UnauthorizedError extends ApplianceError {
  constructor(reason: string) {
    super('rest.unauthorized', `a valid bearer token is required for /apis (${reason})`)
  }
}

export class RouteNotFoundError extends ApplianceError {
  constructor(method: string, path: string) {
    super('rest.not-found', `no route for ${method} ${path}`, { context: { method, path } })
  }
}

export class BodyTooLargeError extends ApplianceError {
  constructor(limit: number) {
    super('rest.body-too-large', `request body exceeds ${limit} bytes`, { context: { limit } })
  }
}

export class UnsupportedMediaTypeError extends ApplianceError {
  constructor(contentType: string) {
    super('rest.unsupported-media-type', `content-type "${contentType}" is not supported; send application/json or application/yaml`, {
      context: { contentType },
    })
  }
}

export class SwitchUnavailableError extends ApplianceError {
  constructor() {
    super('ovsdb.unavailable', 'this appliance runs without Open vSwitch (--ovsdb none) or is not connected to it', { retryable: true })
  }
}

export class ValidationProblemError extends ApplianceError {
  constructor(message: string, issues: ReadonlyArray<{ path: string; message: string }>) {
    super('api.validation', message, { issues })
  }
}

/** The routes and their descriptions disagree (a route without an operation, a duplicate): a programming error. */
export class ApiDescriptionError extends ApplianceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('rest.api-description', message, { context })
  }
}

/** Service operations on an appliance that runs no service runtime (`--service-runtime none`, or without OVS). */
export class ServicesUnavailableError extends ApplianceError {
  constructor(service: string) {
    super('service.not-running', `service ${service} cannot run here: this appliance runs no service runtime (--service-runtime none, or --ovsdb none)`, { context: { service } })
  }
}
