/**
 * `dpuctl get KIND -w`: lists, prints the current objects (unless --watch-only), then follows the appliance's
 * SSE watch from the list's resourceVersion (so no change falls between the two) and prints each change as it
 * comes: a table row under the first header (kubectl's tabwriter-per-line look), or the object in json/yaml/
 * name/jsonpath/custom-columns. Ends with 0 on SIGINT/SIGTERM or when stdout's reader goes away, with 1 and a
 * one-line error when the appliance ends the stream (stopped, restarted) or cannot be reached.
 */
import type { CliIO, ExitCode } from '../../api/cli.js'
import type { StoredObject } from '../../api/meta.js'
import type { KindInfo } from '../../api/resources/kind.js'
import type { ApplianceClient } from './client.js'
import { customColumnRows } from './custom-columns.js'
import { renderJsonPathTemplate } from './jsonpath-template.js'
import type { OutputFormat } from './output-format.js'
import { columnWidths, formatObjects, formatRow, objectRows } from './output.js'
import { kindPrefix } from './print-objects.js'
import { collectionPath } from './resolve.js'
import { readSse } from './sse.js'
import { abortOnInterrupt } from './interrupt.js'

export interface WatchRequest {
  kind: KindInfo
  /** undefined: every namespace (-A) */
  namespace: string | undefined
  selector: string | undefined
  /** Only this object (`get KIND NAME -w`). */
  name: string | undefined
  format: OutputFormat
  noHeaders: boolean
  watchOnly: boolean
}

/** Prints objects one batch at a time; tables keep the first batch's column widths (and header). */
function createPrinter(req: WatchRequest, write: (text: string) => void): (objects: readonly StoredObject[]) => void {
  const f = req.format
  let widths: number[] | undefined
  let docs = 0
  const rows = (objects: readonly StoredObject[]): string[][] =>
    f.type === 'custom-columns' ? customColumnRows(f.columns, objects) : objectRows(objects, { wide: f.type === 'wide', allNamespaces: req.namespace === undefined })
  return (objects) => {
    if (objects.length === 0) return
    switch (f.type) {
      case 'json':
      case 'yaml':
        for (const o of objects) write(`${f.type === 'yaml' && docs++ > 0 ? '---\n' : ''}${formatObjects(o, f.type)}`)
        return
      case 'name':
        for (const o of objects) write(`${kindPrefix(req.kind)}${o.metadata.name}\n`)
        return
      case 'jsonpath':
        for (const o of objects) write(renderJsonPathTemplate(f.template, o))
        return
      default: {
        const [header, ...body] = rows(objects)
        const first = widths === undefined
        const shown = first && !req.noHeaders ? [header!, ...body] : body
        const own = columnWidths(shown)
        const merged = widths === undefined ? own : own.map((w, i) => Math.max(w, widths![i] ?? 0))
        widths = merged
        write(shown.map((r) => formatRow(r, merged)).join(''))
      }
    }
  }
}

/** Runs the watch until it is stopped (0) or lost (1). Errors before the stream opens are thrown. */
export async function watchObjects(client: ApplianceClient, req: WatchRequest, io: CliIO): Promise<ExitCode> {
  const base = collectionPath(req.kind, req.namespace)
  const selector = req.selector ? `labelSelector=${encodeURIComponent(req.selector)}` : ''
  const wanted = (o: StoredObject) => req.name === undefined || o.metadata.name === req.name
  const list = await client.request<{ items: StoredObject[]; metadata?: { resourceVersion?: string } }>('GET', `${base}${selector ? `?${selector}` : ''}`)
  const print = createPrinter(req, (text) => io.stdout.write(text))
  if (!req.watchOnly) print(list.items.filter(wanted))

  // A stopping appliance closes its connections: the body ends, or errors ("other side closed").
  const lost = (reason: string): ExitCode => {
    io.stderr.write(`error: lost the watch: the appliance at ${client.server} went away (${reason}); run the command again to resume\n`)
    return 1
  }
  const interrupt = abortOnInterrupt(io)
  try {
    const q = [`watch=true`, `resourceVersion=${encodeURIComponent(list.metadata?.resourceVersion ?? '0')}`, ...(selector ? [selector] : [])].join('&')
    let body: AsyncIterable<Uint8Array>
    try {
      body = await client.stream(`${base}?${q}`, interrupt.signal)
    } catch (err) {
      if (interrupt.signal.aborted) return 0
      throw err // refused (410, 404) or unreachable: reported like any request
    }
    try {
      for await (const msg of readSse(body)) {
        const event = JSON.parse(msg.data) as { type: string; object: StoredObject }
        if (wanted(event.object)) print([event.object])
      }
      if (!interrupt.signal.aborted) return lost('the stream ended')
    } catch (err) {
      if (!interrupt.signal.aborted) return lost(err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err))
    }
    return 0
  } finally {
    interrupt.release()
  }
}
