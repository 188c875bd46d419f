/**
 * Kubernetes-shaped objects that the appliance honours only in part. Each member of such an object is one of:
 *   honoured      typed by the schema and acted on
 *   ignored       a Kubernetes member that means nothing on one DPU (scheduling, service accounts): accepted, and
 *                 listed by the caller (`ignoredPodFields`) so an event can say so
 *   defaultOnly   a Kubernetes member accepted only at its default (`hostNetwork: false`): what the appliance does
 *   unhonourable  a Kubernetes member the appliance cannot honour: a validation error that says so, never dropped
 *   anything else not a Kubernetes member at all: an unknown-field error
 * so a manifest never loses meaning silently between what the author wrote and what runs.
 */
import { z } from 'zod'
import { isRecord } from '../is-record.js'

export interface FieldPolicy {
  /** What the object is, for messages: `Kubernetes Pod spec`, `Kubernetes container`, `Service spec`. */
  what: string
  ignored?: readonly string[]
  defaultOnly?: Readonly<Record<string, unknown>>
  unhonourable?: readonly string[]
  /** Every member not honoured is unhonourable (resource names: any extended resource is a Kubernetes name). */
  othersUnhonourable?: boolean
}

/** Adds an issue for each member of `obj` that is neither honoured nor accepted by `policy`. */
function checkFields(obj: unknown, honoured: ReadonlySet<string>, policy: FieldPolicy, ctx: z.RefinementCtx): void {
  if (!isRecord(obj)) return
  for (const [key, value] of Object.entries(obj)) {
    if (honoured.has(key) || policy.ignored?.includes(key) === true) continue
    if (policy.defaultOnly !== undefined && key in policy.defaultOnly) {
      const want = policy.defaultOnly[key]
      if (value === want || value === null) continue
      ctx.addIssue({ code: 'custom', path: [key], message: `the appliance cannot honour ${key}: ${JSON.stringify(value)} (only ${JSON.stringify(want)})`, input: value })
    } else if (policy.othersUnhonourable === true)
      ctx.addIssue({ code: 'custom', path: [key], message: `the appliance cannot honour ${key} (of ${policy.what}s it supports only ${[...honoured].join(', ')})`, input: value })
    else if (policy.unhonourable?.includes(key) === true)
      ctx.addIssue({ code: 'custom', path: [key], message: `the appliance cannot honour ${key} (a ${policy.what} field it does not support)`, input: value })
    else ctx.addIssue({ code: 'custom', path: [key], message: `unknown field ${key} (not a field of a ${policy.what})`, input: value })
  }
}

/**
 * A loose object of `shape` whose other members are checked against `policy`. The check runs even when a typed
 * member failed, so one pass reports every field at fault.
 */
export function k8sObject<S extends z.core.$ZodLooseShape>(shape: S, policy: FieldPolicy) {
  const honoured = new Set(Object.keys(shape))
  return z.looseObject(shape).check(z.superRefine((obj: unknown, ctx) => checkFields(obj, honoured, policy, ctx), { when: () => true }))
}

/** The members of `obj` that `policy` accepts without acting on them, as paths under `prefix`. */
export function ignoredFields(obj: unknown, policy: FieldPolicy, prefix: string): string[] {
  if (!isRecord(obj)) return []
  return Object.keys(obj)
    .filter((k) => obj[k] !== undefined && (policy.ignored?.includes(k) === true || (policy.defaultOnly !== undefined && k in policy.defaultOnly)))
    .map((k) => `${prefix}.${k}`)
}
