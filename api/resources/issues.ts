/**
 * zod issues -> FieldIssue[] with Kubernetes-style paths (`spec.switches[0].ports[1].serviceInterface.matchLabels`).
 * Union failures are reduced to the branch that got furthest, which is the one the author meant.
 */
import type { z } from 'zod'
import type { FieldIssue } from '../errors.js'

type Issue = z.core.$ZodIssue
type PathKey = PropertyKey

const IDENT = /^[A-Za-z_$][\w$]*$/

/** `['spec', 'switches', 0, 'svc.dpu/x']` -> `spec.switches[0]["svc.dpu/x"]` */
export function formatPath(path: readonly PathKey[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else {
      const s = String(seg)
      out += IDENT.test(s) ? (out === '' ? s : `.${s}`) : `[${JSON.stringify(s)}]`
    }
  }
  return out
}

function depth(issues: readonly Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_union' ? 1 : 0)))
}

function flatten(issue: Issue, prefix: readonly PathKey[]): Array<{ path: PathKey[]; issue: Issue }> {
  const path = [...prefix, ...issue.path]
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a))
    if (best.length > 0 && depth(best) > 0) return best.flatMap((i) => flatten(i, path))
  }
  return [{ path, issue }]
}

function message(issue: Issue): string {
  if (issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined) return `required (expected ${issue.expected})`
  // A bad map key (labels, ConfigMap keys): say what the key must be, not only that it is invalid.
  if (issue.code === 'invalid_key' && issue.issues[0] !== undefined) return issue.issues[0].message
  return issue.message
}

/** Field issues for a failed parse; pass the error of a `safeParse(x, { reportInput: true })`. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((i) => flatten(i, [])).map(({ path, issue }) => ({ path: formatPath(path), message: message(issue) }))
}
