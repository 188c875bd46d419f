/**
 * What `dpuctl get` prints for the objects it fetched, in every `-o` format, kubectl's way: one table per kind
 * (names as `kind.group/name` when several kinds were asked for), a List for json/yaml/jsonpath unless one
 * object was asked for by name, `custom-columns` rows across kinds. Pure: returns the text for stdout and stderr.
 */
import type { StoredObject } from '../../api/meta.js'
import type { KindInfo } from '../../api/resources/kind.js'
import { customColumnRows } from './custom-columns.js'
import { renderJsonPathTemplate } from './jsonpath-template.js'
import type { OutputFormat } from './output-format.js'
import { asList, formatObjects, formatTable, objectRows } from './output.js'

/** The objects of one kind that `get` fetched; `single` when they were asked for by name. */
export interface KindObjects {
  kind: KindInfo
  items: StoredObject[]
  resourceVersion: string
  single?: StoredObject
}

export interface PrintOptions {
  /** `-A`: the NAMESPACE column, and the "No resources found" wording. */
  namespace: string | undefined
  noHeaders: boolean
}

/** `servicechain.svc.dpu.nvidia.com/` */
export function kindPrefix(k: KindInfo): string {
  return `${k.singular}.${k.group}/`
}

/** The text `get` prints for `fetched` in `format`. */
export function renderObjects(fetched: readonly KindObjects[], format: OutputFormat, opts: PrintOptions): { stdout: string; stderr: string } {
  const all = fetched.flatMap((f) => f.items)
  const one = fetched.length === 1 && fetched[0]!.single ? fetched[0]!.single : undefined
  const resourceVersion = fetched.at(-1)?.resourceVersion ?? ''
  switch (format.type) {
    case 'json':
    case 'yaml':
      return { stdout: formatObjects(one ?? asList(all, resourceVersion), format.type), stderr: '' }
    case 'jsonpath':
      return { stdout: renderJsonPathTemplate(format.template, one ?? asList(all, resourceVersion)), stderr: '' }
    case 'name':
      return { stdout: fetched.flatMap((f) => f.items.map((o) => `${kindPrefix(f.kind)}${o.metadata.name}\n`)).join(''), stderr: '' }
    default:
  }
  if (all.length === 0) return { stdout: '', stderr: opts.namespace === undefined ? 'No resources found\n' : `No resources found in ${opts.namespace} namespace.\n` }
  if (format.type === 'custom-columns') return { stdout: formatTable(customColumnRows(format.columns, all), opts), stderr: '' }
  const tables = fetched
    .filter((f) => f.items.length > 0)
    .map((f) =>
      formatTable(
        objectRows(f.items, {
          wide: format.type === 'wide',
          allNamespaces: opts.namespace === undefined,
          ...(fetched.length > 1 ? { namePrefix: kindPrefix(f.kind) } : {}),
        }),
        opts,
      ),
    )
  return { stdout: tables.join('\n'), stderr: '' }
}
