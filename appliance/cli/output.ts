/** Tables and object formats for dpuctl output, kubectl-like. */
import { stringify as toYaml } from 'yaml'
import type { StoredObject } from '../../api/meta.js'
import { showsUid, wideColumnsFor } from './kind-columns.js'
import { serviceRows } from './service-views.js'

/** Each column as wide as its widest cell. */
export function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const n = Math.max(0, ...rows.map((r) => r.length))
  return Array.from({ length: n }, (_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
}

/** One table line: cells padded to `widths` with 3 spaces between columns, as kubectl's tabwriter prints. */
export function formatRow(row: readonly string[], widths: readonly number[]): string {
  return (
    row
      .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 3)))
      .join('')
      .trimEnd() + '\n'
  )
}

/** A table whose first row is the header; `noHeaders` drops it (and its widths), as `--no-headers` does. */
export function formatTable(rows: readonly (readonly string[])[], opts: { noHeaders?: boolean } = {}): string {
  const shown = opts.noHeaders ? rows.slice(1) : rows
  const widths = columnWidths(shown)
  return shown.map((r) => formatRow(r, widths)).join('')
}

/** `5s`, `3m`, `2h`, `4d`, as kubectl prints ages. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

function ready(o: StoredObject): { status: string; reason: string } {
  const c = o.status?.conditions?.find((x) => x.type === 'Ready')
  return { status: c?.status ?? '', reason: c?.reason ?? '' }
}

export interface ObjectRowsOptions {
  wide: boolean
  allNamespaces: boolean
  /** Written before each name: `kind.group/` when one `get` lists several kinds, as kubectl does. */
  namePrefix?: string
}

/** The `get` table of objects of one kind: header row first. Pure (AGE is relative to now). */
export function objectRows(items: readonly StoredObject[], opts: ObjectRowsOptions): string[][] {
  // Services read like pods (phase, ready containers, restarts), not like the other kinds' Ready condition.
  if (items.length > 0 && items.every((o) => o.kind === 'Service' && o.apiVersion === 'svc.dpu.nvidia.com/v1alpha1')) return serviceRows(items, opts)
  const kindColumns = opts.wide ? wideColumnsFor(items) : undefined
  const uid = opts.wide || showsUid(items)
  const header = [
    ...(opts.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'GENERATION',
    'READY',
    'REASON',
    ...(kindColumns?.header ?? []),
    ...(opts.wide ? ['ORIGIN', 'NODE'] : []),
    ...(uid ? ['UID'] : []),
    ...(opts.wide ? ['RESOURCEVERSION'] : []),
    'AGE',
  ]
  const rows = items.map((o) => {
    const r = ready(o)
    const node = (o.spec as { node?: unknown } | null)?.node
    return [
      ...(opts.allNamespaces ? [o.metadata.namespace] : []),
      `${opts.namePrefix ?? ''}${o.metadata.name}`,
      String(o.metadata.generation),
      r.status,
      r.reason,
      ...(kindColumns?.cells(o) ?? []),
      ...(opts.wide ? [o.metadata.origin, typeof node === 'string' ? node : ''] : []),
      ...(uid ? [o.metadata.uid] : []),
      ...(opts.wide ? [o.metadata.resourceVersion] : []),
      age(o.metadata.creationTimestamp),
    ]
  })
  return [header, ...rows]
}

export function formatObjects(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value, { lineWidth: 0 })
}

/** `get -o json` of several objects: a `List` with `items`, as kubectl prints. */
export function asList(items: readonly StoredObject[], resourceVersion = ''): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items }
}
