/** Errors of the federation hub: a fleet source that could not be read, a chart that could not be rendered. */
import { ApplianceError, type FieldIssue } from '../../api/errors.js'

/** A fleet source (manifest directory, Kubernetes API) could not be read. */
export class SourceError extends ApplianceError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown; issues?: readonly FieldIssue[]; retryable?: boolean } = {}) {
    super('federation.source', message, options)
  }
}

/** Why a DPUService's chart gave no Services: the `reason` of its `Rendered=False` condition. */
export type HelmFailureReason =
  | 'HelmNotConfigured'
  | 'HelmNotExecutable'
  | 'ChartSourceUnsupported'
  | 'HelmFailed'
  | 'HelmTimeout'
  | 'HelmOutputTooLarge'
  | 'ChartOutputInvalid'
  | 'NoPodTemplate'
  | 'InterfaceNotFound'
  | 'PodTemplateInvalid'

/** `helm template` for a DPUService failed, or its output holds nothing the appliance can run. */
export class HelmRenderError extends ApplianceError {
  constructor(
    readonly reason: HelmFailureReason,
    message: string,
    options: { context?: Record<string, unknown>; cause?: unknown; issues?: readonly FieldIssue[]; retryable?: boolean } = {},
  ) {
    super('federation.helm', message, options)
  }
}
