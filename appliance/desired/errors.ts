/** Errors of local desired-state writes. */
import { ApplianceError } from '../../api/errors.js'
import type { ObjectRef } from '../../api/meta.js'

/**
 * A direct write to a node object that a fleet object renders (as kubectl users know it from objects owned by a
 * controller): the renderer would not undo a delete, and would silently overwrite an edit on the next apply.
 */
export class RenderedObjectError extends ApplianceError {
  constructor(ref: ObjectRef, owner: ObjectRef, why: 'stored' | 'same-request') {
    const what = `${ref.kind} ${ref.namespace}/${ref.name}`
    const from = `${owner.kind} ${owner.namespace}/${owner.name}`
    super(
      'desired.rendered-object',
      why === 'stored' ? `${what} is rendered from ${from}; delete or edit that instead` : `${what} is rendered from ${from} in the same request; apply one or the other`,
      {
        context: { ...ref, owner: { ...owner } },
        issues: [{ path: 'metadata.name', message: `rendered from ${from}` }],
      },
    )
  }
}
